// Named parameter tensors inside one flat parameter buffer (so that one optimizer call, one
// global norm or one checkpoint array covers a whole model), shared by the models in curnn/nn/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curnn/tensor.hpp"

namespace curnn::nn {

// One named parameter tensor inside the flat parameter buffer.
struct ParamSlice {
  std::string name;
  std::int64_t offset;  // elements
  std::vector<std::int64_t> shape;
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
  }
};

// Appends a slice after the last one of `layout`; returns the layout's total element count.
inline std::int64_t add_param(std::vector<ParamSlice>& layout, std::string name,
                              std::vector<std::int64_t> shape) {
  const std::int64_t offset = layout.empty() ? 0 : layout.back().offset + layout.back().numel();
  layout.push_back(ParamSlice{std::move(name), offset, std::move(shape)});
  return offset + layout.back().numel();
}

// The slice named `name` of a flat buffer laid out as `layout` (rank 1 or 2, as declared).
template <class Scalar>
TensorView<Scalar> param_view(const std::vector<ParamSlice>& layout, TensorView<Scalar> flat,
                              const std::string& name) {
  for (const ParamSlice& p : layout) {
    if (p.name != name) continue;
    CURNN_CHECK_ARG(p.offset + p.numel() <= flat.numel(),
                    "parameter " << name << " lies outside a buffer of " << flat.numel());
    const TensorView<Scalar> v(flat.data() + p.offset, {p.numel()}, flat.device());
    if (p.shape.size() == 2) return v.reshape({p.shape[0], p.shape[1]});
    return v;
  }
  CURNN_CHECK_ARG(false, "no parameter named " << name);
  return {};
}

}  // namespace curnn::nn
