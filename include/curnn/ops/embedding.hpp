// Embedding lookup and its gradient on a Context (float32 rows, int32 ids):
//     embedding_gather:      out[n, :] = table[ids[n], :]
//     embedding_scatter_add: dtable[ids[n], :] += dout[n, :]   (ADDS; repeated ids are summed)
// Ids must lie in [0, V). The CPU path checks them (ArgumentError naming the first bad id,
// nothing written). The CUDA kernels find them on the device and the context throws the same
// ArgumentError at its next synchronisation point (Context::id_error_slot); until then the op
// has given a zero row in gather and skipped the id in scatter-add, touching no memory out of
// bounds.
// scatter_add on CUDA is deterministic by default (sort by id, one warp per run of equal ids,
// bitwise identical to the CPU reference); with ctx.set_deterministic(false) it uses float
// atomics. Spec: include/curnn/ref/embedding.hpp.
#pragma once

#include "curnn/context.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// ids [N], table [V, E], out [N, E] (overwritten).
void embedding_gather(Context& ctx, ConstIds ids, ConstTensor table, Tensor out);

// ids [N], dout [N, E], dtable [V, E] (added to). Uses ctx.workspace on CUDA.
void embedding_scatter_add(Context& ctx, ConstIds ids, ConstTensor dout, Tensor dtable);
// float64, on the CPU backend only (gradient checks of engines).
void embedding_gather(Context& ctx, ConstIds ids, TensorView<const double> table,
                      TensorView<double> out);
void embedding_scatter_add(Context& ctx, ConstIds ids, TensorView<const double> dout,
                           TensorView<double> dtable);

}  // namespace curnn::ops
