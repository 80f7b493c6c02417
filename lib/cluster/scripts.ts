// The server-side steps of the Redis Cluster backend: one Lua script per
// operation, so that each check-and-write is atomic on the node that owns
// the key (Redis runs a script to the end before serving anything else).
//
// Every token key holds the engine's sealed record (cpp/store/record.h):
//
//   OFFSET SIZE
//        0    7  expires_at_ms, u56 LE (informational here: Redis' own
//                expiry, set with PX/PEXPIRE, is what ends the token)
//        7    1  record format (left alone)
//        8    8  reads_left, i64 LE, -1 = unlimited
//       16    4  key_id of the secret that sealed it
//       20  ...  flags, subject hash, nonce, ciphertext, tag (opaque here)
//
// The limits sit outside the ciphertext, so a read decrements reads_left in
// place (SETRANGE keeps the key's expiry) without the secret ever reaching
// Redis. ARGV[1] of every script is the key ids this process accepts (its
// current and previous secrets'), each as the 8 hex digits of its 4 record
// bytes, concatenated: a record of any other secret reads as absent and is
// never touched, as on a master. Hex, not the raw bytes: a command whose
// arguments are all strings costs ioredis less CPU to write than one with
// a Buffer in it.

/** Lua helper: true when the record's key_id is one of ARGV[1]'s. */
const ACCEPTS = `
local function accepts(v, ids)
  if string.len(v) < 20 then return true end
  local id = string.format('%02x%02x%02x%02x', string.byte(v, 17, 20))
  for i = 1, string.len(ids), 8 do
    if string.sub(ids, i, i + 7) == id then return true end
  end
  return false
end
`;
// A record shorter than its head is passed through so that the codec
// reports it as corruption instead of it silently reading as absent.

/**
 * read: KEYS[1] token key; ARGV[1] key ids.
 * -> false (absent, expired or another secret's) | {record, pttl, readsLeft}
 * readsLeft is after this read's decrement (-1 = unlimited); at 0 the key is
 * deleted in the same step, so of many concurrent readers exactly the
 * allowed number get the record.
 */
export const READ = `${ACCEPTS}
local v = redis.call('GET', KEYS[1])
if not v or not accepts(v, ARGV[1]) then return false end
if string.len(v) < 20 then return {v, -1, -1} end
local reads = struct.unpack('<i8', v, 9)
local pttl = redis.call('PTTL', KEYS[1])
if reads ~= -1 then
  reads = reads - 1
  if reads <= 0 then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SETRANGE', KEYS[1], 8, struct.pack('<i8', reads))
  end
end
return {v, pttl, reads}
`;

/**
 * peek: like read without the decrement (listSubject).
 * -> false | {pttl, readsLeft}
 */
export const PEEK = `${ACCEPTS}
local v = redis.call('GET', KEYS[1])
if not v or string.len(v) < 20 or not accepts(v, ARGV[1]) then return false end
return {redis.call('PTTL', KEYS[1]), struct.unpack('<i8', v, 9)}
`;

/**
 * update: KEYS[1]; ARGV[1] key ids, ARGV[2] new record, ARGV[3] ttl ms or -1.
 * -> 1 when a live token was replaced (data and limits), 0 otherwise: an
 * absent key stays absent (update never revives).
 */
export const UPDATE = `${ACCEPTS}
local v = redis.call('GET', KEYS[1])
if not v or not accepts(v, ARGV[1]) then return 0 end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`;

/**
 * put: KEYS[1]; ARGV[1] key ids, ARGV[2] new record, ARGV[3] ttl ms or -1.
 * Creates the key or wholly replaces its record and expiry (SET without
 * PX drops an old expiry, as PERSIST would). -> 1 when it replaced a live
 * record of an accepted key, 0 when it created one (a record of another
 * secret counts as absent and is overwritten, as the engine does).
 */
export const PUT = `${ACCEPTS}
local v = redis.call('GET', KEYS[1])
local replaced = 0
if v and accepts(v, ARGV[1]) then replaced = 1 end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return replaced
`;

/** delete: KEYS[1]; ARGV[1] key ids. -> 1 when a live token was removed. */
export const DELETE = `${ACCEPTS}
local v = redis.call('GET', KEYS[1])
if not v or not accepts(v, ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * touch: KEYS[1]; ARGV[1] key ids, ARGV[2] ttl ms or -1, ARGV[3] the new
 * expires_at_ms in decimal (0 = never; < 2^53, exact in a Lua number),
 * written as the record's u56 LE. -> 1 when live. Payload and reads are
 * untouched.
 */
export const TOUCH = `${ACCEPTS}
local v = redis.call('GET', KEYS[1])
if not v or string.len(v) < 20 or not accepts(v, ARGV[1]) then return 0 end
redis.call('SETRANGE', KEYS[1], 0, string.sub(struct.pack('<i8', tonumber(ARGV[3])), 1, 7))
if tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('PERSIST', KEYS[1])
end
return 1
`;

/**
 * subject add: KEYS[1] the subject's set; ARGV[1] the member (a token's
 * handle), ARGV[2] the token's ttl ms or -1. The set lives as long as its
 * longest-lived token; members whose token is gone are pruned by
 * listSubject/revokeSubject.
 */
export const SUBJECT_ADD = `
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl <= 0 then
  redis.call('PERSIST', KEYS[1])
elseif existed == 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('PEXPIRE', KEYS[1], ttl, 'GT')
end
return 1
`;

/**
 * index key: KEYS[1] the meta hash (<prefix>m:index-key, one field per
 * secret: its key id as 8 hex digits -> the cluster's index key wrapped
 * under that secret's wrap key); ARGV[1] this process's field, ARGV[2] its
 * wrapping of the index key it would start with. A cluster without the hash
 * gets it (so of several processes starting at once, the first one's
 * choice stands); -> every field and value, flat, as HGETALL.
 */
export const INDEX_KEY = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return redis.call('HGETALL', KEYS[1])
`;
