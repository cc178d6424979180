#!/usr/bin/python3
"""quantize_onnx.py — dynamic int8 quantization of an ONNX graph, the way onnxruntime's
`quantize_dynamic` does it (QOperator-free "integer ops" form), for bench/run.sh.

    /usr/bin/python3 bench/quantize_onnx.py IN.onnx OUT.onnx [--no-attn]

onnxruntime's Python package is not on this machine, so this is the same rewrite done with
python3-onnx + numpy: every MatMul whose second input is a constant 2-D f32 weight W [K, N] becomes

    x ─ DynamicQuantizeLinear ─┬─ x_q (uint8) ─┐
                               ├─ x_scale ─────┼─ Mul ─┐
                               └─ x_zp ────────┤       │
    W_q (int8, per tensor, symmetric) ─────────┴─ MatMulInteger ─ Cast(f32) ─ Mul ─ y

(a Gemm with a constant weight is first read as MatMul + Add), i.e. activations quantized per tensor (uint8, asymmetric) at run time, weights once per tensor
(int8, symmetric: scale = max|W| / 127, zero point 0): quantize_dynamic's defaults
(weight_type=QInt8, per_channel=False). onnxruntime's graph optimizer then fuses the pattern
into MatMulIntegerToFloat / DynamicQuantizeMatMul, as it does for quantize_dynamic's output.
Other nodes (embeddings Gather, LayerNorm, Q·Kᵀ and P·V MatMuls between activations, Softmax)
stay f32, as in quantize_dynamic. --no-attn drops the attentions output, so the graph is what
a plain inference (no attention maps) computes.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize(model, drop_attn=False):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    # constants folded into Constant nodes count too (torch.onnx emits both)
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}

    def weight(name):
        if name in inits:
            return numpy_helper.to_array(inits[name])
        if name in consts:
            for a in consts[name].attribute:
                if a.name == "value":
                    return numpy_helper.to_array(a.t)
        return None

    def attr(node, name, default):
        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default

    nodes, new_inits, done = [], [], 0
    for node in g.node:
        w = weight(node.input[1]) if node.op_type in ("MatMul", "Gemm") else None
        bias = None
        if node.op_type == "Gemm" and w is not None:
            # torch exports Linear on a 2-D input as Gemm(x, W, b, transB=1); an HF export (3-D
            # input) gives MatMul + Add, which quantize_dynamic quantizes: make it that form
            if attr(node, "transA", 0) or attr(node, "alpha", 1.0) != 1.0 or attr(node, "beta", 1.0) != 1.0:
                w = None
            else:
                if attr(node, "transB", 0):
                    w = np.ascontiguousarray(w.T)
                bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
        if w is None or w.ndim != 2 or w.dtype != np.float32:
            nodes.append(node)
            continue
        x, y, base = node.input[0], node.output[0], node.output[0].replace("/", "_").strip("_")
        mm_out = base + "_mm" if bias else y
        amax = float(np.abs(w).max()) or 1.0
        scale = amax / 127.0
        wq = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        new_inits += [numpy_helper.from_array(wq, base + "_Wq"),
                      numpy_helper.from_array(np.array(scale, np.float32), base + "_Wscale"),
                      numpy_helper.from_array(np.array(0, np.int8), base + "_Wzp")]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [base + "_xq", base + "_xs", base + "_xzp"]),
            helper.make_node("Mul", [base + "_xs", base + "_Wscale"], [base + "_s"]),
            helper.make_node("MatMulInteger", [base + "_xq", base + "_Wq", base + "_xzp", base + "_Wzp"],
                             [base + "_i32"]),
            helper.make_node("Cast", [base + "_i32"], [base + "_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [base + "_f", base + "_s"], [mm_out]),
        ]
        if bias:
            nodes.append(helper.make_node("Add", [mm_out, bias], [y]))
        done += 1
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(new_inits)
    if drop_attn:
        keep = [o for o in g.output if o.name != "attentions"]
        del g.output[:]
        g.output.extend(keep)
    # drop initializers nothing uses any more (the f32 weights)
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return model, done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--no-attn", action="store_true")
    a = ap.parse_args()
    model, n = quantize(onnx.load(a.inp), a.no_attn)
    onnx.checker.check_model(model)
    onnx.save(model, a.out)
    print("%s: %d MatMuls quantized%s" % (a.out, n, ", attentions output dropped" if a.no_attn else ""))


if __name__ == "__main__":
    main()
