import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { CRUDJT } from './00.setup';
import { fromGrpcError, fromNative, InternalError, InvalidState, toGrpcError, Unavailable } from '../lib/errors';

describe('CRUDJT.Errors', () => {
  it('exposes InvalidState (55JT01), InternalError (XX000) and Unavailable', () => {
    expect(new CRUDJT.Errors.InvalidState('x').code).to.equal('55JT01');
    expect(new CRUDJT.Errors.InternalError('x').code).to.equal('XX000');
    const u = new CRUDJT.Errors.Unavailable('x');
    expect(u).to.be.instanceOf(CRUDJT.Errors.InternalError);
    expect(u.code).to.equal('XX000');
    expect(u.name).to.equal('Unavailable');
    expect(new InvalidState('m')).to.be.instanceOf(Error);
  });

  describe('fromNative()', () => {
    const native = (code: string, message = 'msg'): Error => Object.assign(new Error(message), { code });

    it('turns CRUDJT_BUSY into InvalidState with the engine message', () => {
      const e = fromNative(native('CRUDJT_BUSY', 'store /x is locked by process 12'));
      expect(e).to.be.instanceOf(InvalidState);
      expect(e.message).to.equal('store /x is locked by process 12');
    });

    it('turns corruption, I/O, not-supported and closed into InternalError', () => {
      for (const code of ['CRUDJT_CORRUPTION', 'CRUDJT_IO_ERROR', 'CRUDJT_NOT_SUPPORTED', 'CRUDJT_CLOSED', 'SOMETHING_ELSE']) {
        expect(fromNative(native(code))).to.be.instanceOf(InternalError);
      }
    });

    it('turns CRUDJT_INVALID_ARGUMENT into TypeError', () => {
      expect(fromNative(native('CRUDJT_INVALID_ARGUMENT'))).to.be.instanceOf(TypeError);
    });
  });

  describe('gRPC mapping', () => {
    const roundTrip = (e: Error): Error => {
      const { code, details, metadata } = toGrpcError(e);
      return fromGrpcError({ code, details, metadata }, '127.0.0.1:1', 100);
    };

    it('maps each class to its status code', () => {
      expect(toGrpcError(new TypeError('t')).code).to.equal(status.INVALID_ARGUMENT);
      expect(toGrpcError(new RangeError('r')).code).to.equal(status.INVALID_ARGUMENT);
      expect(toGrpcError(new InvalidState('i')).code).to.equal(status.FAILED_PRECONDITION);
      expect(toGrpcError(new InternalError('x')).code).to.equal(status.INTERNAL);
      expect(toGrpcError(new Error('plain')).code).to.equal(status.INTERNAL);
    });

    it('brings back the same class and message on the client', () => {
      for (const e of [new TypeError('t'), new RangeError('r'), new InvalidState('i'), new InternalError('x')]) {
        const back = roundTrip(e);
        expect(back.constructor).to.equal(e.constructor);
        expect(back.message).to.equal(e.message);
      }
    });

    it('falls back to the status code without crudjt-error metadata', () => {
      expect(fromGrpcError({ code: status.INVALID_ARGUMENT, details: 'd' }, 'h:1', 1)).to.be.instanceOf(TypeError);
      expect(fromGrpcError({ code: status.FAILED_PRECONDITION, details: 'd' }, 'h:1', 1)).to.be.instanceOf(InvalidState);
      expect(fromGrpcError({ code: status.UNKNOWN, details: 'd' }, 'h:1', 1)).to.be.instanceOf(InternalError);
    });

    it('turns UNAVAILABLE and DEADLINE_EXCEEDED into Unavailable naming host:port', () => {
      const a = fromGrpcError({ code: status.UNAVAILABLE, details: 'No connection established' }, '127.0.0.1:4242', 100);
      expect(a).to.be.instanceOf(Unavailable);
      expect(a.message).to.contain('127.0.0.1:4242');
      const b = fromGrpcError({ code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }, '127.0.0.1:4242', 100);
      expect(b).to.be.instanceOf(Unavailable);
      expect(b.message).to.contain('127.0.0.1:4242').and.contain('100 ms');
    });
  });
});
