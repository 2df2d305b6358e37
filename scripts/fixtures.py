# Writes PyTorch reference values (ops forward/backward, optimizer steps, schedules, init formulas) to test/fixtures/*.json.
#
# Run with Debian's PyTorch:  /usr/bin/python3 scripts/fixtures.py
# The JSON files are committed; the TypeScript tests read them and never need Python.
# Every input is drawn here and stored in the file, so the tests feed exactly these float32 values.
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def enc(t):
    """A tensor as {shape, data}; 9 significant digits round-trip float32 exactly and keep the files small."""
    t = t.detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def randn(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def case(fn, inputs, args=None, labels=None):
    """Runs fn(**inputs) forward, contracts with a random cotangent, and records output and input gradients."""
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
    if labels is not None:
        c['labels'] = labels
    return c


def ops_fixtures():
    cases = {}
    cases['matmul'] = case(lambda a, b: a @ b, {'a': randn(3, 4), 'b': randn(4, 5)})
    cases['linear'] = case(lambda x, weight, bias: F.linear(x, weight, bias),
                           {'x': randn(4, 5), 'weight': randn(3, 5), 'bias': randn(3)})
    cases['linear_nobias'] = case(lambda x, weight: F.linear(x, weight), {'x': randn(2, 3), 'weight': randn(4, 3)})
    for name, shape, wshape, stride, padding in [
        ('conv2d_s1p0', (2, 2, 5, 5), (3, 2, 3, 3), 1, 0),
        ('conv2d_s2p1', (2, 2, 6, 6), (3, 2, 3, 3), 2, 1),
        ('conv2d_s2p1_odd', (1, 2, 7, 5), (2, 2, 3, 3), 2, 1),
        ('conv2d_k2s1p1', (1, 3, 4, 4), (2, 3, 2, 2), 1, 1),
    ]:
        cases[name] = case(lambda x, weight, bias, s=stride, p=padding: F.conv2d(x, weight, bias, stride=s, padding=p),
                           {'x': randn(*shape), 'weight': randn(*wshape, scale=0.5), 'bias': randn(wshape[0])},
                           {'stride': stride, 'padding': padding})
    cases['conv2d_nobias'] = case(lambda x, weight: F.conv2d(x, weight, None, stride=1, padding=1),
                                  {'x': randn(1, 2, 4, 4), 'weight': randn(2, 2, 3, 3)}, {'stride': 1, 'padding': 1})
    # Continuous random inputs have no ties, so max pooling's argmax is unambiguous.
    for name, shape, k, s, p in [('maxpool_k2', (2, 2, 4, 4), 2, 2, 0), ('maxpool_k3s2p1', (1, 2, 5, 5), 3, 2, 1),
                                 ('maxpool_k2s1', (1, 1, 4, 3), 2, 1, 0)]:
        cases[name] = case(lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p), {'x': randn(*shape)},
                           {'kernelSize': k, 'stride': s, 'padding': p})
    for name, shape, k, s, p in [('avgpool_k2', (2, 2, 4, 4), 2, 2, 0), ('avgpool_k3s2p1', (1, 2, 5, 5), 3, 2, 1),
                                 ('avgpool_k2s1', (1, 1, 4, 3), 2, 1, 0)]:
        cases[name] = case(lambda x, k=k, s=s, p=p: F.avg_pool2d(x, k, s, p, count_include_pad=True), {'x': randn(*shape)},
                           {'kernelSize': k, 'stride': s, 'padding': p})
    for name, shape, dim, scale in [('softmax_last', (3, 5), -1, 1.0), ('softmax_dim1', (2, 3, 4), 1, 1.0),
                                    ('softmax_large', (2, 4), -1, 40.0)]:
        cases[name] = case(lambda x, d=dim: F.softmax(x, dim=d), {'x': randn(*shape, scale=scale)}, {'dim': dim})
    for name, shape, dim, scale in [('logsoftmax_last', (3, 5), -1, 1.0), ('logsoftmax_dim0', (2, 3, 4), 0, 1.0),
                                    ('logsoftmax_large', (2, 4), -1, 40.0)]:
        cases[name] = case(lambda x, d=dim: F.log_softmax(x, dim=d), {'x': randn(*shape, scale=scale)}, {'dim': dim})
    for red in ['mean', 'sum']:
        labels = torch.randint(0, 4, (5,))
        cases['cross_entropy_' + red] = case(lambda logits, r=red, y=labels: F.cross_entropy(logits, y, reduction=r),
                                             {'logits': randn(5, 4, scale=2.0)}, {'reduction': red}, labels.tolist())
        cases['mse_' + red] = case(lambda pred, target, r=red: F.mse_loss(pred, target, reduction=r),
                                   {'pred': randn(3, 4), 'target': randn(3, 4)}, {'reduction': red})
    cases['relu'] = case(lambda x: F.relu(x), {'x': randn(3, 4)})
    cases['sigmoid'] = case(lambda x: torch.sigmoid(x), {'x': randn(3, 4, scale=3.0)})
    cases['tanh'] = case(lambda x: torch.tanh(x), {'x': randn(3, 4, scale=2.0)})
    return cases


def optim_fixtures():
    """Five steps of each optimizer from the same parameters with stored gradients (so the tests need no autograd)."""
    steps = 5
    p0 = [torch.randn(3, 4), torch.randn(4)]
    grads = [[torch.randn(3, 4), torch.randn(4)] for _ in range(steps)]
    configs = [
        ('sgd', 'SGD', {'lr': 0.1}),
        ('sgd_momentum', 'SGD', {'lr': 0.1, 'momentum': 0.9}),
        ('sgd_momentum_dampening', 'SGD', {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.3}),
        ('sgd_nesterov', 'SGD', {'lr': 0.05, 'momentum': 0.8, 'nesterov': True}),
        ('sgd_weight_decay', 'SGD', {'lr': 0.1, 'weight_decay': 0.05}),
        ('sgd_momentum_weight_decay', 'SGD', {'lr': 0.1, 'momentum': 0.9, 'weight_decay': 0.05}),
        ('sgd_nesterov_weight_decay', 'SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True, 'weight_decay': 0.01}),
        ('adam', 'Adam', {'lr': 0.01}),
        ('adam_weight_decay', 'Adam', {'lr': 0.02, 'betas': [0.8, 0.99], 'eps': 1e-6, 'weight_decay': 0.1}),
        ('adamw', 'AdamW', {'lr': 0.01, 'weight_decay': 0.1}),
        ('adamw_default_wd', 'AdamW', {'lr': 0.01}),
    ]
    out = {'params0': [enc(p) for p in p0], 'grads': [[enc(g) for g in gs] for gs in grads], 'cases': {}}
    for name, cls, kw in configs:
        params = [p.clone().requires_grad_(True) for p in p0]
        kwt = dict(kw)
        if 'betas' in kwt:
            kwt['betas'] = tuple(kwt['betas'])
        opt = getattr(torch.optim, cls)(params, **kwt)
        traj = []
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = g.clone()
            opt.step()
            traj.append([enc(p) for p in params])
        out['cases'][name] = {'optimizer': cls, 'options': kw, 'params': traj}
    return out


def schedule_fixtures():
    """Learning rates at t = 0..n of PyTorch's schedulers (get_last_lr after t scheduler.step() calls)."""
    def run(make, n):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        lrs = [sched.get_last_lr()[0]]
        for _ in range(n):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs
    S = torch.optim.lr_scheduler
    return {
        'lr0': 0.1,
        'step_lr': {'stepSize': 3, 'gamma': 0.5, 'lrs': run(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 10)},
        'cosine': {'tMax': 8, 'etaMin': 0.01, 'lrs': run(lambda o: S.CosineAnnealingLR(o, T_max=8, eta_min=0.01), 8)},
        'linear_warmup': {'warmupSteps': 4, 'startFactor': 0.25,
                          'lrs': run(lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4), 8)},
    }


def init_fixtures():
    """PyTorch's fan and gain formulas, and default Linear/Conv2d bounds, for a few shapes."""
    I = torch.nn.init
    shapes = [[30, 50], [16, 3, 3, 3], [8, 4, 5, 5]]
    out = {'gains': {}, 'shapes': []}
    for nl, param in [('linear', None), ('sigmoid', None), ('tanh', None), ('relu', None), ('leaky_relu', None),
                      ('leaky_relu', math.sqrt(5)), ('leaky_relu', 0.2)]:
        key = nl if param is None else '%s:%r' % (nl, param)
        out['gains'][key] = I.calculate_gain(nl, param)
    for s in shapes:
        t = torch.empty(*s)
        fan_in, fan_out = I._calculate_fan_in_and_fan_out(t)
        relu = I.calculate_gain('relu')
        entry = {
            'shape': s,
            'fanIn': fan_in,
            'fanOut': fan_out,
            # torch.nn.Linear/Conv2d reset_parameters: kaiming_uniform_(a=sqrt(5)) -> bound = 1/sqrt(fan_in); bias the same.
            'defaultBound': I.calculate_gain('leaky_relu', math.sqrt(5)) * math.sqrt(3.0 / fan_in),
            'kaimingUniformReluBound': relu * math.sqrt(3.0 / fan_in),
            'kaimingNormalReluStd': relu / math.sqrt(fan_in),
            'kaimingNormalReluFanOutStd': relu / math.sqrt(fan_out),
            'xavierUniformBound': math.sqrt(6.0 / (fan_in + fan_out)),
            'xavierNormalStd': math.sqrt(2.0 / (fan_in + fan_out)),
        }
        # Empirical check that the formulas above are what torch draws: the largest |w| of a default layer.
        if len(s) == 2:
            layer = torch.nn.Linear(s[1], s[0])
        else:
            layer = torch.nn.Conv2d(s[1], s[0], s[2])
        entry['torchDefaultMaxAbs'] = float(layer.weight.detach().abs().max())
        out['shapes'].append(entry)
    return out


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes)' % (os.path.relpath(path), os.path.getsize(path)))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    meta = {'generator': 'scripts/fixtures.py', 'torch': torch.__version__}
    write('ops.json', {'meta': meta, 'cases': ops_fixtures()})
    write('optim.json', {'meta': meta, 'optim': optim_fixtures(), 'schedules': schedule_fixtures(), 'init': init_fixtures()})
