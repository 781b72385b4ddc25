#!/usr/bin/env python3
"""One projection of 8-bit rows, three graphs, one thread, CPU time (ONNX Runtime from PyPI).

Usage: python3 scripts/bench-int8-projection.py K N ROWS[,ROWS...]   e.g. 896 4864 20,300
(a) QuantizeLinear-free chain + MatMulInteger + Cast + two scale Muls, (b) the same chain +
MatMulIntegerToFloat, (c) blocked QuantizeLinear + MatMulIntegerToFloat (what isg --bits i8 writes).
Needs: pip install onnxruntime onnx numpy (in a virtual environment).
"""
import time, sys, numpy as np, onnx, onnxruntime as ort
from onnx import helper, TensorProto, numpy_helper
K, N = int(sys.argv[1]), int(sys.argv[2]); Ms = [int(x) for x in sys.argv[3].split(',')]
rng = np.random.default_rng(0); W = rng.standard_normal((K, N)).astype(np.float32) * 0.02
sc = np.abs(W).max(0) / 127; q = np.round(W / sc).clip(-127, 127).astype(np.int8)
c = lambda n, v, dt=np.float32: numpy_helper.from_array(np.array(v, dtype=dt), n)
def sess(nodes, inits, opset=21):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", N])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid("com.microsoft", 1)])
    o = ort.SessionOptions(); o.intra_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), o, providers=["CPUExecutionProvider"])
base_inits = lambda: [numpy_helper.from_array(q, "Bq"), numpy_helper.from_array(sc.astype(np.float32), "Bs"), c("c127", 127.0), c("c128", 128.0), c("eps", 1e-30), c("zp", 128, np.uint8), c("axes", [-1], np.int64)]
scale_nodes = [helper.make_node("Abs", ["x"], ["ax"]), helper.make_node("ReduceMax", ["ax", "axes"], ["mx"], keepdims=1),
        helper.make_node("Max", ["mx", "eps"], ["mx2"]), helper.make_node("Div", ["mx2", "c127"], ["rs"])]
chain_q = [helper.make_node("Div", ["x", "rs"], ["xs"]), helper.make_node("Round", ["xs"], ["xr"]),
        helper.make_node("Add", ["xr", "c128"], ["xa"]), helper.make_node("Cast", ["xa"], ["xq"], to=TensorProto.UINT8)]
def current():
    return sess(scale_nodes + chain_q + [helper.make_node("MatMulInteger", ["xq", "Bq", "zp"], ["yi"]),
        helper.make_node("Cast", ["yi"], ["yf"], to=TensorProto.FLOAT), helper.make_node("Mul", ["yf", "rs"], ["y1"]), helper.make_node("Mul", ["y1", "Bs"], ["y"])], base_inits())
def mmitf():
    return sess(scale_nodes + chain_q + [helper.make_node("MatMulIntegerToFloat", ["xq", "Bq", "rs", "Bs", "zp"], ["y"], domain="com.microsoft")], base_inits())
def qlin():
    # zero point tensor shaped like the scale: 128 broadcast by Expand of the scale's shape
    nodes = scale_nodes + [helper.make_node("Shape", ["rs"], ["rsh"]), helper.make_node("Expand", ["zp", "rsh"], ["zpe"]),
        helper.make_node("QuantizeLinear", ["x", "rs", "zpe"], ["xq"], axis=-1, block_size=K),
        helper.make_node("MatMulIntegerToFloat", ["xq", "Bq", "rs", "Bs", "zp"], ["y"], domain="com.microsoft")]
    return sess(nodes, base_inits())
ss = {}
for name, f in [("matmulinteger+mul", current), ("mmitf", mmitf), ("qlin+mmitf", qlin)]:
    try: ss[name] = f()
    except Exception as e: print(name, "failed:", str(e)[:300])
for M in Ms:
    x = rng.standard_normal((M, K)).astype(np.float32); x[:, 3] *= 50; ref = x @ W; res = {}
    for _ in range(3):
        for name, s in ss.items():
            try: s.run(None, {"x": x})
            except Exception as e: print(name, "run failed:", str(e)[:300]); continue
            reps = max(3, int(1e9 / (2 * M * K * N))); t = time.process_time()
            for _ in range(reps): y = s.run(None, {"x": x})[0]
            dt = (time.process_time() - t) / reps; err = np.abs(y - ref).max() / np.abs(ref).max()
            res[name] = min(res.get(name, (9e9, 0))[0], dt), err
    print(f"M={M:4d} " + "  ".join(f"{k} {2*M*K*N/v[0]/1e9:6.1f} GFLOP/s (err {v[1]:.4f})" for k, v in res.items()), flush=True)
