# Writes PyTorch reference values for the convnet pieces (issue 13) to test/fixtures/convnets.json.
#
# Run with Debian's PyTorch:  /usr/bin/python3 scripts/fixtures_convnets.py
# ops: stride-2 convolutions (3x3 and the 1x1 shortcut), global average pooling, the residual join
#   relu(alpha * branch + shortcut); each with inputs, a random cotangent, the output and the input gradients.
# modules: torchvision-style BasicBlocks (identity and conv1x1 + BN shortcut, BN or none, SkipInit) and a
#   CIFAR-style ResNet-8, one training-mode step each: state dict, x, cotangent, y, dx, every parameter's
#   gradient, and the BN running statistics after the step; then an eval-mode output.
# Every input is drawn here and stored, so the tests feed exactly these float32 values.
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1512)  # arXiv 1512.03385 (ResNet)
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def enc(t):
    """A tensor as {shape, data}; 9 significant digits round-trip float32 exactly."""
    t = t.detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def randn(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def case(fn, inputs, args=None):
    """fn(**inputs) forward, contracted with a random cotangent: output and input gradients."""
    out = fn(**inputs)
    cot = torch.randn(out.shape)
    out.backward(cot)
    c = {
        'inputs': {k: enc(v) for k, v in inputs.items()},
        'cotangent': enc(cot),
        'out': enc(out),
        'grads': {k: enc(v.grad) for k, v in inputs.items() if v.grad is not None},
    }
    if args is not None:
        c['args'] = args
    return c


def ops_fixtures():
    cases = {}
    for name, shape, wshape, stride, padding, bias in [
        ('conv2d_1x1s2', (2, 4, 7, 7), (6, 4, 1, 1), 2, 0, False),
        ('conv2d_1x1s2_even_bias', (2, 3, 8, 8), (5, 3, 1, 1), 2, 0, True),
        ('conv2d_3x3s2p1_nobias', (2, 3, 10, 10), (4, 3, 3, 3), 2, 1, False),
        ('conv2d_3x3s2p1_odd', (3, 2, 7, 7), (3, 2, 3, 3), 2, 1, True),
    ]:
        inputs = {'x': randn(*shape), 'weight': randn(*wshape, scale=0.5)}
        if bias:
            inputs['bias'] = randn(wshape[0])
        cases[name] = case(lambda x, weight, bias=None, s=stride, p=padding: F.conv2d(x, weight, bias, stride=s, padding=p),
                           inputs, {'stride': stride, 'padding': padding})
    cases['gap'] = case(lambda x: F.adaptive_avg_pool2d(x, 1), {'x': randn(2, 3, 5, 4)})
    cases['gap_7x7'] = case(lambda x: F.adaptive_avg_pool2d(x, 1), {'x': randn(3, 4, 7, 7, scale=3.0)})
    cases['residual_relu'] = case(lambda branch, shortcut: F.relu(branch + shortcut),
                                  {'branch': randn(2, 3, 4, 4), 'shortcut': randn(2, 3, 4, 4)}, {'act': 'relu'})
    cases['residual_alpha_relu'] = case(lambda branch, shortcut, alpha: F.relu(alpha * branch + shortcut),
                                        {'branch': randn(2, 3, 4, 4), 'shortcut': randn(2, 3, 4, 4), 'alpha': randn(1)}, {'act': 'relu'})
    cases['residual_plain'] = case(lambda branch, shortcut: branch + shortcut,
                                   {'branch': randn(2, 3, 3, 5), 'shortcut': randn(2, 3, 3, 5)}, {'act': None})
    return cases


class Block(nn.Module):
    """torchvision's BasicBlock (same names), with norm 'none' (convs with bias) and SkipInit's alpha as options."""

    def __init__(self, inplanes, planes, stride=1, norm='bn', skip_init=False):
        super().__init__()
        bn = norm == 'bn'
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=not bn)
        self.bn1 = nn.BatchNorm2d(planes) if bn else None
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=not bn)
        self.bn2 = nn.BatchNorm2d(planes) if bn else None
        self.downsample = None
        if stride != 1 or inplanes != planes:
            proj = [nn.Conv2d(inplanes, planes, 1, stride, bias=not bn)]
            self.downsample = nn.Sequential(*(proj + [nn.BatchNorm2d(planes)] if bn else proj))
        self.alpha = nn.Parameter(torch.zeros(1)) if skip_init else None

    def forward(self, x):
        out = self.conv1(x)
        if self.bn1 is not None:
            out = self.bn1(out)
        out = self.conv2(self.relu(out))
        if self.bn2 is not None:
            out = self.bn2(out)
        if self.alpha is not None:
            out = self.alpha * out
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """CIFAR-style ResNet (depth 6n + 2) in torchvision's names."""

    def __init__(self, depth, widths, norm, in_ch=1, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        bn = norm in ('bn', 'bn-zero-gamma')
        self.conv1 = nn.Conv2d(in_ch, widths[0], 3, 1, 1, bias=not bn)
        self.bn1 = nn.BatchNorm2d(widths[0]) if bn else None
        self.relu = nn.ReLU()
        inp = widths[0]
        for s, planes in enumerate(widths):
            blocks = []
            for i in range(n):
                blocks.append(Block(inp, planes, 2 if s > 0 and i == 0 else 1, 'bn' if bn else 'none', norm == 'skipinit'))
                inp = planes
            setattr(self, 'layer%d' % (s + 1), nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inp, classes)

    def forward(self, x):
        x = self.conv1(x)
        if self.bn1 is not None:
            x = self.bn1(x)
        x = self.relu(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def perturb(m):
    """BN affine and running statistics away from their defaults, and alpha away from 0, so every path is tested."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.copy_(1 + 0.3 * torch.randn_like(mod.weight))
                mod.bias.copy_(0.2 * torch.randn_like(mod.bias))
                mod.running_mean.copy_(0.1 * torch.randn_like(mod.running_mean))
                mod.running_var.copy_(1 + 0.2 * torch.rand_like(mod.running_var))
            if isinstance(mod, Block) and mod.alpha is not None:
                mod.alpha.fill_(0.5)


def module_case(m, xshape, spec):
    perturb(m)
    state = {k: enc(v) for k, v in m.state_dict().items()}
    m.train()
    x = torch.randn(*xshape).requires_grad_(True)
    y = m(x)
    cot = torch.randn(y.shape)
    y.backward(cot)
    after = {k: enc(v) for k, v in m.state_dict().items() if 'running' in k}
    m.eval()
    with torch.no_grad():
        y_eval = m(x)
    return {
        'spec': spec, 'state': state, 'x': enc(x), 'cotangent': enc(cot), 'y': enc(y), 'dx': enc(x.grad),
        'paramGrads': {k: enc(p.grad) for k, p in m.named_parameters()}, 'runningAfter': after, 'yEval': enc(y_eval),
    }


def module_fixtures():
    cases = {}
    cases['block_identity_bn'] = module_case(Block(4, 4), (4, 4, 6, 6), {'kind': 'block', 'inPlanes': 4, 'planes': 4, 'stride': 1, 'norm': 'bn'})
    cases['block_down_bn'] = module_case(Block(3, 6, 2), (4, 3, 7, 7), {'kind': 'block', 'inPlanes': 3, 'planes': 6, 'stride': 2, 'norm': 'bn'})
    cases['block_down_none_skipinit'] = module_case(Block(3, 4, 2, 'none', True), (3, 3, 6, 6),
                                                    {'kind': 'block', 'inPlanes': 3, 'planes': 4, 'stride': 2, 'norm': 'none', 'skipInit': True})
    for norm in ['bn', 'skipinit']:
        cases['resnet8_' + norm] = module_case(ResNet(8, [4, 6, 8], norm, 1, 5), (4, 1, 12, 12),
                                               {'kind': 'resnet', 'depth': 8, 'widths': [4, 6, 8], 'norm': norm, 'inChannels': 1, 'imageSize': 12, 'classes': 5})
    return cases


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    meta = {'generator': 'scripts/fixtures_convnets.py', 'torch': torch.__version__}
    path = os.path.join(OUT, 'convnets.json')
    with open(path, 'w') as f:
        json.dump({'meta': meta, 'ops': ops_fixtures(), 'modules': module_fixtures()}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes)' % (os.path.relpath(path), os.path.getsize(path)))
