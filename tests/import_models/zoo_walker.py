"""Models written the way model zoos write them, for what import's walker must get right:
helpers kept with the classes that use them, tuples inside tuples, calls into a child's own
modules, lists handed to the model's own code, graphs that depend on an index, in-place ops,
a nested-tensor encoder and tuples handed along a sequential."""

import random
from collections import OrderedDict

import torch
from torch import nn


# -- helpers of the module, used by classes kept as source ----------------------------------
def _norm_act(channels):
    return nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())


def conv1x1_block(in_channels, out_channels):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         _norm_act(out_channels))


class ScaleGradient(torch.autograd.Function):
    """The identity going forward; the gradient scaled on the way back."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


class Jitter:
    """A helper class whose code needs a module kept source may not import."""

    @staticmethod
    def amount():
        return random.random()


class GradientGate(nn.Module):
    """Kept (a branch on a value); calls the autograd Function of its module."""

    def __init__(self, width, factor=0.5):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.factor = factor

    def forward(self, x):
        y = self.fc(x)
        if y.abs().max() > 1e6:
            y = y.clamp(-1e6, 1e6)
        return ScaleGradient.apply(y, self.factor)


class GradientNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = GradientGate(4, factor=0.25)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        return self.out(self.gate(x))


class HelperBlock(nn.Module):
    """Kept; builds its layers with the module's helper functions."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = conv1x1_block(in_channels, out_channels)

    def forward(self, x):
        y = self.conv(x)
        if y.abs().max() > 1e6:
            return y.clamp(-1e6, 1e6)
        return ScaleGradient.apply(y, 0.5)


class HelperNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = HelperBlock(3, 4)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.head(self.block(x))


class JitterGate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        if y.sum() > 1e6:
            return y * Jitter.amount()
        return y


class JitterNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = JitterGate()

    def forward(self, x):
        return self.gate(x) + 1


# -- tuples inside tuples --------------------------------------------------------------------
class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 3)
        self.c = nn.Linear(4, 2)

    def forward(self, x):
        return (self.a(x), self.b(x)), self.c(x)


class UsesBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.branches = Branches()
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        (a, b), c = self.branches(x)
        return self.out(a) + c, b


# -- calls into the modules of a child -------------------------------------------------------
class Backbone(nn.Module):
    """Its own forward is never called: the model taps its parts."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
        self.layer2 = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU())
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x)))))
        return self.fc(x.mean((2, 3)))


class FeatureTaps(nn.Module):
    """Calls into a backbone's parts, a Sequential by index, and a plain nn.Module holder."""

    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.heads = nn.Sequential(nn.Conv2d(4, 2, 1), nn.Conv2d(8, 2, 1))
        self.extra = nn.Module()
        self.extra.rnn = nn.LSTM(2, 3, batch_first=True)
        self.extra.out = nn.Linear(3, 2)

    def forward(self, x):
        x = self.backbone.relu(self.backbone.bn1(self.backbone.conv1(x)))
        c1 = self.backbone.layer1(x)
        c2 = self.backbone.layer2(c1)
        p1 = self.heads[0](c1).mean((2, 3))
        p2 = self.heads[1](c2).mean((2, 3))
        h, (hn, _cn) = self.extra.rnn(torch.stack([p1, p2], dim=1))
        return self.extra.out(h).mean(1) + hn[0].sum(-1, keepdim=True)


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(4, 4)
        self.second = nn.Linear(4, 4)


class BackAndForth(nn.Module):
    """Works on what comes out of the holder, then hands it back: one step it is not."""

    def __init__(self):
        super().__init__()
        self.pair = Pair()

    def forward(self, x):
        return self.pair.second(torch.relu(self.pair.first(x)))


class HoldsBackAndForth(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = BackAndForth()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.inner(x))


# -- lists handed to the model's own code ----------------------------------------------------
class AppendAndJoin(nn.Module):
    def forward(self, xs):
        xs.append(xs[0] * 2)
        return torch.cat(xs, dim=1)


class JoinIfList(nn.Module):
    def forward(self, x):
        if type(x) is list:
            x = torch.cat(x, dim=1)
        return torch.sigmoid(x)


class ListUser(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.grow = AppendAndJoin()
        self.join = JoinIfList()

    def forward(self, x):
        h = self.fc(x)
        return self.grow([h, x]) + self.join([x, h, x])


class KeptJoin(nn.Module):
    def forward(self, xs):
        y = torch.cat(xs, dim=1)
        if y.abs().max() > 1e6:
            return y.clamp(-1e6, 1e6)
        return y


class PassesList(nn.Module):
    def __init__(self):
        super().__init__()
        self.join = KeptJoin()

    def forward(self, x):
        return self.join([x, x * 2])


class HoldsPassesList(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = PassesList()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.inner(x))


# -- graphs that depend on a value of the instance -------------------------------------------
class Window(nn.Module):
    def __init__(self, index):
        super().__init__()
        self._index = index  # private: still a value the traced graph depends on
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x[:, self._index:self._index + 4])


class Flattens(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, 3)

    def forward(self, x):
        return self.fc(x.reshape(-1, self.fc.in_features))


class Windows(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Window(0)
        self.second = Window(2)
        self.wide = Flattens(8)
        self.narrow = Flattens(4)

    def forward(self, x):
        return self.wide(x) + self.narrow(self.first(x) + self.second(x))


# -- in-place ops -----------------------------------------------------------------------------
class DoublesInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x.mul_(2)
        return self.fc(x)


class TwoNames(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        h = self.fc(x)
        y = h
        y += 1  # h changes with it
        return h * 2


class ViewThenChange(nn.Module):
    def forward(self, x):
        flat = x.view(x.size(0), -1)
        x.mul_(3)
        return flat + 1


class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("seen", torch.zeros(1))

    def forward(self, x):
        self.seen.add_(1)
        return x + self.seen


class ChangesInput(nn.Module):
    def forward(self, x):
        x.add_(1)
        return x * 2


class ReadsAgain(nn.Module):
    def __init__(self):
        super().__init__()
        self.change = ChangesInput()

    def forward(self, x):
        return self.change(x) + x


class InPlaces(nn.Module):
    def __init__(self):
        super().__init__()
        self.doubles = DoublesInput()
        self.names = TwoNames()
        self.view = ViewThenChange()
        self.counter = Counter()
        self.again = ReadsAgain()
        self.out = nn.Linear(3, 4)

    def forward(self, x):
        h = self.names(x) + self.out(self.doubles(x))
        return self.view(h) + self.counter(h) + self.again(h)


# -- a nested-tensor encoder -------------------------------------------------------------------
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False,
                                             mask_check=False)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.encoder(x))


# -- tuples handed along a sequential ---------------------------------------------------------
class DualPath(nn.Module):
    def __init__(self):
        super().__init__()
        self.fa = nn.Linear(4, 4)
        self.fb = nn.Linear(4, 4)

    def forward(self, x):
        a, b = x
        return self.fa(a) + b, self.fb(b)


class DualSequential(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(DualPath(), DualPath())
        self.named = nn.Sequential(OrderedDict([("first", DualPath()), ("second", DualPath())]))

    def forward(self, x):
        a, b = self.body((x, x))
        c, d = self.named((a, b))
        return c * d


class TwoWaySequential(nn.Sequential):
    """A zoo's dual-path container: (x1, x2) from unit to unit; the first units see x1."""

    def __init__(self, plain=0, scheme=(lambda module, a, b: module(a, b))):
        super().__init__()
        self.plain = plain
        self.scheme = scheme

    def forward(self, x1, x2=None):
        for index, module in enumerate(self._modules.values()):
            if index < self.plain:
                x1 = module(x1)
            else:
                x1, x2 = self.scheme(module, x1, x2)
        return x1, x2


class TwoWayUnit(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, a, b):
        return self.fc(a) + b, b * 2


class TwoWayNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stage = TwoWaySequential(plain=1)
        self.stage.add_module("init", nn.Linear(4, 4))
        self.stage.add_module("unit1", TwoWayUnit())
        self.stage.add_module("unit2", TwoWayUnit())

    def forward(self, x):
        a, b = self.stage(x, x)
        return a - b


# -- constructor arguments recorded as tuples or lists ---------------------------------------
class KeptConv(nn.Module):
    def __init__(self, channels, kernel=(1, 1)):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel)

    def forward(self, x):
        y = self.conv(x)
        if y.abs().max() > 1e6:
            return y.clamp(-1e6, 1e6)
        return y


class KernelForms(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = KeptConv(3, kernel=(1, 1))
        self.b = KeptConv(3, kernel=[1, 1])

    def forward(self, x):
        return self.b(self.a(x))


# -- fixed (non-tensor) arguments ---------------------------------------------------------------
class Signed(nn.Module):
    def forward(self, x, negate=False, scale=2):
        return -x if negate else x * scale


class CallsOnceWithFlag(nn.Module):
    """One call with a flag other than its default: the trace fixes it."""

    def __init__(self):
        super().__init__()
        self.signed = Signed()

    def forward(self, x):
        return self.signed(x, True)


class CallsTwiceDifferently(nn.Module):
    """One module, two fixed flags: two graphs for one module, which a diagram cannot draw."""

    def __init__(self):
        super().__init__()
        self.signed = Signed()

    def forward(self, x):
        return self.signed(x, True, 3) + self.signed(x)


class KeptFlag(nn.Module):
    def forward(self, x, negate=False):
        if x.abs().max() > 1e6:
            x = x.clamp(-1e6, 1e6)
        return -x if negate else x


class PassesFlag(nn.Module):
    """Gives a class kept as source a flag: generated code would pass it the tensor alone."""

    def __init__(self):
        super().__init__()
        self.flag = KeptFlag()

    def forward(self, x):
        return self.flag(x, negate=True)


class Flags(nn.Module):
    def __init__(self):
        super().__init__()
        self.once = CallsOnceWithFlag()
        self.twice = CallsTwiceDifferently()
        self.passes = PassesFlag()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.once(x) + self.twice(x) + self.passes(x))
