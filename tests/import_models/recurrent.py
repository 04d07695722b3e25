"""A bidirectional LSTM classifier: the tuple the LSTM returns is unpacked, and the last
hidden states of both directions are joined."""

import torch
from torch import nn


class BiLSTMClassifier(nn.Module):
    def __init__(self, vocab=30, embed=8, hidden=12, num_classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(hidden * 2, num_classes)

    def forward(self, tokens):
        x = self.embedding(tokens)
        output, (hidden, cell) = self.lstm(x)
        hidden = torch.cat((hidden[-2], hidden[-1]), dim=1)
        return self.fc(self.dropout(hidden)), output
