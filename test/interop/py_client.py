#!/usr/bin/env python3
"""A crudjt gRPC client on the C-core gRPC stack, driven over stdio.

Used by test/81.interop.python.test.ts to talk to our master the way the
published Python SDK (crudjt-python 1.0.0) does: grpcio stubs generated from
proto/token_service.proto, payloads packed with msgpack.packb(data) (msgpack
>= 1.0 defaults: use_bin_type=True), None limits sent as -1, responses
unpacked with msgpack.unpackb(packed_data) (raw=False).

Usage: py_client.py --proto <dir with token_service.proto> --target host:port

Stubs are generated at start into a temporary directory (never committed).
Protocol: one JSON object per line on stdin, one JSON answer per line on
stdout, in order. The first line written is {"ready": true, ...} or
{"ready": false, "missing": "<module>", "error": "..."}.

Requests ("id" is echoed back):
  {"op": "create", "data": <json> | "data_typed": <typed>, "ttl": n|null,
   "silence_read": n|null}
  {"op": "read", "token": s}
  {"op": "update", "token": s, "data"/"data_typed", "ttl", "silence_read"}
  {"op": "delete", "token": s}
  {"op": "burst", "n": n}   n concurrent creates, then n concurrent reads
  {"op": "raw", "method": "CreateToken"|..., "fields": {...}}
      fields are set as given; "packed_data_hex" sets packed_data bytes.
Answers: {"id", "ok": true, "result": ...} or
         {"id", "ok": false, "code": "INVALID_ARGUMENT", "details": "...",
          "trailing": [[k, v], ...]}
A read answers {"raw_hex": hex(packed_data), "value": <typed>} where <typed>
tags every value with its Python type ({"int": 5}, {"str": "a"},
{"dict": [[k, v], ...]}, {"nil": null}, {"float": 1.5}, {"bytes": hex},
{"bool": true}, {"list": [...]}), or "unpack_error" when msgpack refuses.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

DEADLINE_S = 10.0


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def describe(value):
    """Tags a decoded MessagePack value with its Python type."""
    if value is None:
        return {"nil": None}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"float": value}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, dict):
        return {"dict": [[describe(k), describe(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list": [describe(v) for v in value]}
    return {"other": repr(value)}


def undescribe(typed):
    """The inverse of describe(), so that a test can send bytes or floats."""
    (kind, v), = typed.items()
    if kind == "nil":
        return None
    if kind in ("bool", "int", "str"):
        return v
    if kind == "float":
        return float(v)
    if kind == "bytes":
        return bytes.fromhex(v)
    if kind == "dict":
        return {undescribe(k): undescribe(x) for k, x in v}
    if kind == "list":
        return [undescribe(x) for x in v]
    raise ValueError("unknown typed kind: " + kind)


def generate_stubs(proto_dir, out_dir):
    from grpc_tools import protoc

    args = [
        "protoc",
        "-I" + proto_dir,
        "--python_out=" + out_dir,
        "--grpc_python_out=" + out_dir,
        os.path.join(proto_dir, "token_service.proto"),
    ]
    code = protoc.main(args)
    if code != 0:
        raise RuntimeError("grpc_tools.protoc exited with %d" % code)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proto", required=True)
    parser.add_argument("--target", required=True)
    opts = parser.parse_args()

    for module in ("grpc", "msgpack", "grpc_tools"):
        try:
            __import__(module)
        except ImportError as e:
            emit({"ready": False, "missing": module, "error": str(e)})
            return 0

    import grpc
    import msgpack

    out_dir = tempfile.mkdtemp(prefix="crudjt-pystubs-")
    try:
        try:
            generate_stubs(opts.proto, out_dir)
            sys.path.insert(0, out_dir)
            import token_service_pb2 as pb2
            import token_service_pb2_grpc as pb2_grpc
        except Exception as e:  # report, do not crash: the test prints it
            emit({"ready": False, "missing": None, "error": "stub generation: %r" % (e,)})
            return 0

        channel = grpc.insecure_channel(opts.target)
        stub = pb2_grpc.TokenServiceStub(channel)
        import google.protobuf
        emit({
            "ready": True,
            "grpc": grpc.__version__,
            "msgpack": ".".join(map(str, msgpack.version)),
            "protobuf": google.protobuf.__version__,
            "python": sys.version.split()[0],
        })

        def limit(v):
            # The SDK: "proto int64 can not carry nil -> sentinel -1".
            return -1 if v is None else v

        def payload(req):
            if "packed_data_hex" in req:
                return bytes.fromhex(req["packed_data_hex"])
            data = undescribe(req["data_typed"]) if "data_typed" in req else req["data"]
            return msgpack.packb(data)  # exactly what the SDK sends

        def read_answer(resp):
            raw = resp.packed_data
            out = {"raw_hex": raw.hex()}
            try:
                out["value"] = describe(msgpack.unpackb(raw))  # as the SDK reads
            except Exception as e:
                out["unpack_error"] = "%s: %s" % (type(e).__name__, e)
            return out

        requests = {
            "CreateToken": pb2.CreateTokenRequest,
            "ReadToken": pb2.ReadTokenRequest,
            "UpdateToken": pb2.UpdateTokenRequest,
            "DeleteToken": pb2.DeleteTokenRequest,
        }

        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            req = json.loads(line)
            rid = req.get("id")
            op = req.get("op")
            try:
                if op == "create":
                    resp = stub.CreateToken(pb2.CreateTokenRequest(
                        packed_data=payload(req),
                        ttl=limit(req.get("ttl")),
                        silence_read=limit(req.get("silence_read"))), timeout=DEADLINE_S)
                    result = resp.token
                elif op == "read":
                    resp = stub.ReadToken(pb2.ReadTokenRequest(token=req["token"]), timeout=DEADLINE_S)
                    result = read_answer(resp)
                elif op == "update":
                    resp = stub.UpdateToken(pb2.UpdateTokenRequest(
                        token=req["token"],
                        packed_data=payload(req),
                        ttl=limit(req.get("ttl")),
                        silence_read=limit(req.get("silence_read"))), timeout=DEADLINE_S)
                    result = resp.result
                elif op == "delete":
                    resp = stub.DeleteToken(pb2.DeleteTokenRequest(token=req["token"]), timeout=DEADLINE_S)
                    result = resp.result
                elif op == "burst":
                    # n concurrent creates, then n concurrent reads, multiplexed
                    # on one HTTP/2 connection by the C-core stack.
                    n = int(req["n"])
                    creates = [stub.CreateToken.future(pb2.CreateTokenRequest(
                        packed_data=msgpack.packb({"i": i}), ttl=-1, silence_read=-1),
                        timeout=DEADLINE_S) for i in range(n)]
                    tokens = [f.result().token for f in creates]
                    reads = [stub.ReadToken.future(pb2.ReadTokenRequest(token=t), timeout=DEADLINE_S)
                             for t in tokens]
                    matching = sum(1 for i, f in enumerate(reads)
                                   if msgpack.unpackb(f.result().packed_data) == {"data": {"i": i}})
                    result = {"unique_tokens": len(set(tokens)), "reads_matching": matching}
                elif op == "raw":
                    method = req["method"]
                    fields = dict(req.get("fields", {}))
                    if "packed_data_hex" in fields:
                        fields["packed_data"] = bytes.fromhex(fields.pop("packed_data_hex"))
                    resp = getattr(stub, method)(requests[method](**fields), timeout=DEADLINE_S)
                    if method == "ReadToken":
                        result = read_answer(resp)
                    elif method == "CreateToken":
                        result = resp.token
                    else:
                        result = resp.result
                else:
                    emit({"id": rid, "ok": False, "code": "DRIVER", "details": "unknown op %r" % op})
                    continue
                emit({"id": rid, "ok": True, "result": result})
            except grpc.RpcError as e:
                trailing = [[k, v if isinstance(v, str) else v.hex()]
                            for k, v in (e.trailing_metadata() or ())]
                emit({"id": rid, "ok": False, "code": e.code().name,
                      "details": e.details(), "trailing": trailing})
            except Exception as e:
                emit({"id": rid, "ok": False, "code": "DRIVER",
                      "details": "%s: %s" % (type(e).__name__, e)})
        channel.close()
        return 0
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
