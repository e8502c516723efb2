import torch, curnn.torch  # noqa: E401  (README's five lines; scripts/test.sh runs them)
lstm = curnn.torch.LSTM(32, 64, num_layers=2, dropout=0.2)  # torch.nn.LSTM's arguments
output, (h_n, c_n) = lstm(torch.randn(35, 20, 32))  # [T, B, E] -> [T, B, H]
loss = curnn.torch.softmax_cross_entropy(output.reshape(-1, 64), torch.randint(0, 64, (700,)))
loss.backward()  # BPTT in libcurnn's engine: lstm.weight_ih_l0.grad, ...
