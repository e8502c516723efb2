"""libcurnn for PyTorch: a drop-in torch.nn.LSTM on libcurnn's engine and libcurnn's fused
losses as autograd functions.

    import curnn.torch
    lstm = curnn.torch.LSTM(input_size, hidden_size, num_layers=2, dropout=0.5)
    output, (h_n, c_n) = lstm(x)        # as torch.nn.LSTM; load_state_dict works both ways
    loss = curnn.torch.softmax_cross_entropy(logits, targets)
"""

from .losses import log_uniform_candidate_sampler, nce_loss, softmax_cross_entropy
from .lstm import LSTM, lstm_layer

__all__ = ["LSTM", "lstm_layer", "softmax_cross_entropy", "nce_loss",
           "log_uniform_candidate_sampler"]
