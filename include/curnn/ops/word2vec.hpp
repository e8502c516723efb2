// word2vec's negative-sampling step as an op on a Context (CPU reference or CUDA kernel).
// Semantics: ref::sgns_step (curnn/ref/word2vec.hpp); the kernel: kernels/word2vec.cu.
#pragma once

#include "curnn/context.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// One SGD step of word2vec.c's negative-sampling objective over N independent work items
// (skip-gram: one input per item, the context word; CBOW: up to C context words, averaged),
// updating syn0 and syn1neg in place and writing each item's loss before its update
// (-log sigmoid(f_target) - sum log sigmoid(-f_negative)) when `loss` is given.
//   input_ids    [N, C]  the first input_count[n] ids of row n are item n's inputs
//   input_count  [N]     each in [0, C] (0: the item does nothing, loss 0)
//   target_ids   [N]     the centre word (label 1)
//   negative_ids [N, K]  negatives (label 0); one equal to the item's target is skipped
//   syn0, syn1neg [V, E] the input and output embeddings, updated
//   loss         [N]     or an empty Tensor() for none
// N, C, K, V, E >= 1; alpha >= 0 is the learning rate. Every id and count is checked: the first bad
// one (item by item: count, inputs, target, negatives) is an ArgumentError on both backends. On
// the CPU the items run in order, after the check. On CUDA the items run in parallel without
// locks (Hogwild, as word2vec.c's threads): the result is the sequential one only when no two
// items share a row, and otherwise depends on scheduling whatever ctx.deterministic() says; an
// item with a bad id is skipped (loss NaN) and the context throws at its next synchronisation
// point (Context::id_error_slot). CUDA needs E <= 512 and N * (C + K + 2) < 2^32.
void sgns_step(Context& ctx, ConstIds input_ids, ConstIds input_count, ConstIds target_ids,
               ConstIds negative_ids, float alpha, Tensor syn0, Tensor syn1neg,
               Tensor loss = Tensor());

}  // namespace curnn::ops
