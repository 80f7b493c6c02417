import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './00.setup';
import { projectRoot, resolveStorePath, systemStorePath } from '../lib/store_path';

describe('store path resolution', () => {
  it('uses the explicit option, resolved against the working directory', () => {
    const r = resolveStorePath('rel/store', { cwd: '/tmp/x' });
    expect(r).to.deep.equal({ path: '/tmp/x/rel/store', source: 'option' });
  });

  it('uses the system location when it is writable or creatable', () => {
    const sys = path.join(tempDir(), 'var', 'lib', 'store_jt');
    const r = resolveStorePath(undefined, { systemPath: sys, cwd: tempDir() });
    expect(r).to.deep.equal({ path: sys, source: 'system' });
    expect(fs.existsSync(sys)).to.equal(true);
  });

  it('falls back to store_jt beside the nearest package.json above the working directory', () => {
    const root = tempDir('project');
    fs.writeFileSync(path.join(root, 'package.json'), '{}');
    const deep = path.join(root, 'src', 'sub');
    fs.mkdirSync(deep, { recursive: true });
    const blocker = path.join(tempDir(), 'file');
    fs.writeFileSync(blocker, 'x'); // a file: the "system" dir can not be created under it
    const r = resolveStorePath(undefined, { systemPath: path.join(blocker, 'store_jt'), cwd: deep });
    expect(r).to.deep.equal({ path: path.join(root, 'store_jt'), source: 'project' });
    expect(projectRoot(deep)).to.equal(root);
  });

  it('knows the system locations of Linux, macOS and Windows', () => {
    expect(systemStorePath('linux')).to.equal('/var/lib/store_jt');
    expect(systemStorePath('darwin')).to.equal('/usr/local/var/store_jt');
    expect(systemStorePath('win32')).to.equal('C:\\Program Files\\store_jt');
  });
});
