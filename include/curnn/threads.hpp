// The CPU backend's thread count: how many threads its parallel loops (host/parallel.hpp: the
// softmax, the LSTM cell, the GEMM's column blocks) and the word-vector evaluation use. The
// environment sets it, CURNN_NUM_THREADS=N (a whole number from 1 to kMaxCpuThreads); unset or
// empty, it is every core (std::thread::hardware_concurrency()). The fast word2vec trainer has
// its own -threads (TrainOptions::threads) and does not read it.
//
// Results do not depend on it: the CPU backend splits work by the shapes alone and hands the
// pieces to however many threads there are (tests/threads_test.cpp checks 1, 2 and 3 threads
// bit for bit).
#pragma once

namespace curnn {

inline constexpr int kMaxCpuThreads = 1024;

// The thread count: set_cpu_threads()'s value if one is set, else CURNN_NUM_THREADS, else every
// core. Throws ArgumentError naming the variable and its value when CURNN_NUM_THREADS is not a
// whole number from 1 to kMaxCpuThreads (Context::cpu() calls it, so a bad value is reported
// before any work starts).
int cpu_threads();

// Overrides CURNN_NUM_THREADS for this process: n from 1 to kMaxCpuThreads, or 0 to go back to
// the environment's value. Throws ArgumentError for other values.
void set_cpu_threads(int n);

}  // namespace curnn
