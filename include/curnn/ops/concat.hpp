// Column concatenation and split on a Context (CPU reference or CUDA). Semantics:
// include/curnn/ref/concat.hpp; kernels: kernels/concat.cu.
//   concat_columns: out [N, Ca+Cb] = [a [N, Ca], b [N, Cb]]   (the BiLSTM's y[t] = [fw, bw])
//   split_columns:  its adjoint, in [N, Ca+Cb] -> a [N, Ca], b [N, Cb]  (dy -> dfw, dbw)
// Every tensor is 2-D (reshape [T, B, H] sequences to [T*B, H]); outputs must not overlap inputs.
#pragma once

#include "curnn/context.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

void concat_columns(Context& ctx, ConstTensor a /*[N, Ca]*/, ConstTensor b /*[N, Cb]*/,
                    Tensor out /*[N, Ca+Cb]*/);
void split_columns(Context& ctx, ConstTensor in /*[N, Ca+Cb]*/, Tensor a /*[N, Ca]*/,
                   Tensor b /*[N, Cb]*/);
// float64, on the CPU backend only (gradient checks of engines).
void concat_columns(Context& ctx, TensorView<const double> a, TensorView<const double> b,
                    TensorView<double> out);
void split_columns(Context& ctx, TensorView<const double> in, TensorView<double> a,
                   TensorView<double> b);

}  // namespace curnn::ops
