#!/usr/bin/env python3
"""Gate and up projections as two MatMulIntegerToFloat against one packed product + Split.

Usage: python3 scripts/bench-gate-up-packing.py ROWS[,ROWS...]   e.g. 1,10,300
Needs: pip install onnxruntime onnx numpy (in a virtual environment).
"""
import time, sys, numpy as np, onnxruntime as ort
from onnx import helper, TensorProto, numpy_helper
K, N = 896, 4864; Ms = [int(x) for x in sys.argv[1].split(',')]
rng = np.random.default_rng(0)
def q(W): sc = np.abs(W).max(0) / 127; return np.round(W / sc).clip(-127, 127).astype(np.int8), sc.astype(np.float32)
Wg, Wu = (rng.standard_normal((K, N)).astype(np.float32) * 0.02 for _ in range(2))
c = lambda n, v, dt=np.float32: numpy_helper.from_array(np.array(v, dtype=dt), n)
def sess(nodes, inits):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("xq", TensorProto.UINT8, ["M", K]), helper.make_tensor_value_info("rs", TensorProto.FLOAT, ["M", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", N])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    o = ort.SessionOptions(); o.intra_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), o, providers=["CPUExecutionProvider"])
(gq, gs), (uq, us) = q(Wg), q(Wu)
two = sess([helper.make_node("MatMulIntegerToFloat", ["xq", "G", "rs", "Gs", "zp"], ["g"], domain="com.microsoft"),
            helper.make_node("MatMulIntegerToFloat", ["xq", "U", "rs", "Us", "zp"], ["u"], domain="com.microsoft"),
            helper.make_node("Mul", ["g", "u"], ["y"])],
           [numpy_helper.from_array(gq, "G"), numpy_helper.from_array(gs, "Gs"), numpy_helper.from_array(uq, "U"), numpy_helper.from_array(us, "Us"), c("zp", 128, np.uint8)])
one = sess([helper.make_node("MatMulIntegerToFloat", ["xq", "GU", "rs", "GUs", "zp"], ["gu"], domain="com.microsoft"),
            helper.make_node("Split", ["gu"], ["g", "u"], axis=-1, num_outputs=2),
            helper.make_node("Mul", ["g", "u"], ["y"])],
           [numpy_helper.from_array(np.concatenate([gq, uq], 1), "GU"), numpy_helper.from_array(np.concatenate([gs, us]), "GUs"), c("zp", 128, np.uint8)])
for M in Ms:
    xq = rng.integers(0, 256, (M, K)).astype(np.uint8); rs = np.full((M, 1), 0.01, np.float32); res = {}
    for _ in range(3):
        for name, s in [("two", two), ("packed", one)]:
            s.run(None, {"xq": xq, "rs": rs}); reps = max(5, int(2e9 / (4 * M * K * N))); t = time.process_time()
            for _ in range(reps): y = s.run(None, {"xq": xq, "rs": rs})[0]
            res[name] = min(res.get(name, 9e9), (time.process_time() - t) / reps)
    print(f"M={M:4d} " + "  ".join(f"{k} {4*M*K*N/v/1e9:6.1f} GFLOP/s" for k, v in res.items()), flush=True)
