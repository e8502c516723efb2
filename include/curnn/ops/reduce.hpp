// Reductions and elementwise utilities on a Context. Semantics: include/curnn/ref/reduce.hpp;
// kernels: kernels/reduce.cu. Every reduction is deterministic (bitwise reproducible run to run).
// "Any shape" tensors are treated as flat arrays of numel() elements.
#pragma once

#include "curnn/context.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// x [N, C] -> out [C]: out = the column sums, or out += them with accumulate (bias gradients
// over B*T rows).
void column_sum(Context& ctx, ConstTensor x, Tensor out, bool accumulate);

// x (any shape, N elements) -> out [1] on ctx's device: the sum (sum_squares: of squares); with
// accumulate, out += it. No host synchronization.
void sum(Context& ctx, ConstTensor x, Tensor out, bool accumulate = false);
void sum_squares(Context& ctx, ConstTensor x, Tensor out, bool accumulate = false);

// Elementwise, any shape: x = value; x *= alpha; y += alpha * x; out = a * b (out may be a or b;
// a, b, out of the same shape).
void fill(Context& ctx, Tensor x, float value);
void scale(Context& ctx, Tensor x, float alpha);
void axpy(Context& ctx, float alpha, ConstTensor x, Tensor y);
void mul(Context& ctx, ConstTensor a, ConstTensor b, Tensor out);

// True when x (any shape) holds no NaN or Inf. Synchronizes ctx (the result is on the host).
bool all_finite(Context& ctx, ConstTensor x);

// x [N, C] += v [C] on every row (bias of a dense layer).
void add_row_vector(Context& ctx, ConstTensor v, Tensor x);

// float64, on the CPU backend only (gradient checks of engines).
void column_sum(Context& ctx, TensorView<const double> x, TensorView<double> out, bool accumulate);
void sum(Context& ctx, TensorView<const double> x, TensorView<double> out, bool accumulate = false);
void sum_squares(Context& ctx, TensorView<const double> x, TensorView<double> out,
                 bool accumulate = false);
void fill(Context& ctx, TensorView<double> x, double value);
void scale(Context& ctx, TensorView<double> x, double alpha);
void axpy(Context& ctx, double alpha, TensorView<const double> x, TensorView<double> y);
void mul(Context& ctx, TensorView<const double> a, TensorView<const double> b,
         TensorView<double> out);
void add_row_vector(Context& ctx, TensorView<const double> v, TensorView<double> x);

}  // namespace curnn::ops
