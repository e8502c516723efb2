// CUDA launchers of the persistent LSTM loop (kernels/lstm_persistent.cu): all T steps of the
// recurrence of one LSTM layer (or of two independent directions) in one launch, forward and
// backward, with the recurrent weights Wh held in the shared memory of a thread-block cluster.
// Float32, raw device pointers, queued on `stream`. Needs compute capability 9.0 (clusters).
// The tape layout and the math are those of nn::GemmPerStepLoop (include/curnn/nn/lstm.hpp,
// include/curnn/ref/lstm_cell.hpp); the engine-level RecurrentLoop is nn::PersistentLoop.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "curnn/cuda/lstm_persistent_plan.hpp"

namespace curnn::cuda {

// The plan for B rows and H units (per direction, `directions` of them in one launch) on the
// current device: the largest cluster size in 16, 8, 4, 2, 1 (at most H) whose blocks hold their
// share of Wh and whose clusters the device can run (cudaOccupancyMaxActiveClusters >= 1). An
// empty plan when none can, with the reason in *why_not (when given).
persistent::Plan plan_persistent_lstm(int B, int H, int directions, std::string* why_not);

// How many clusters of the plan's kernels the current device runs at once (the smaller of
// forward and backward; 0 when it cannot run them).
int persistent_lstm_max_active_clusters(const persistent::Plan& plan);

// dirs: PersistentLstmDirection (include/curnn/cuda/lstm_persistent_plan.hpp).
// Forward of `directions` (1 or 2) independent directions of the same shape in one launch:
// reads pre, the initial state slot of c and h, and mask; writes gates, the T step slots of c
// and h, y (when given: required with a mask) and h_final/c_final (when given, by the last
// step). `plan` must come from plan_persistent_lstm(B, H, ...) or
// persistent::plan_for_cluster(B, H, ...) for this device.
void persistent_lstm_forward(const persistent::Plan& plan, int T, int B, int H, float forget_bias,
                             const PersistentLstmDirection* dirs, int directions,
                             cudaStream_t stream);

// Backward through time of the same directions from their forward tapes: reads gates, c, mask,
// dy, dh_last, dc_last; overwrites pre with dPre [T, B, 4H] and writes dh_first, dc_first.
void persistent_lstm_backward(const persistent::Plan& plan, int T, int B, int H,
                              const PersistentLstmDirection* dirs, int directions,
                              cudaStream_t stream);

}  // namespace curnn::cuda
