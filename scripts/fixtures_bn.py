# Writes PyTorch reference values for the BatchNorm family to test/fixtures/bn*.json (committed; tests never need Python).
#
# Run with Debian's PyTorch:  /usr/bin/python3 scripts/fixtures_bn.py
# bn_modules.json: BatchNorm1d/2d cases, five training steps then eval: inputs, cotangents, outputs, input and
#   parameter gradients, running_mean, running_var, num_batches_tracked after each step, and the final state dict.
# bn_layer_group.json: LayerNorm and GroupNorm forward/backward.
# Every input is drawn here and stored, so the tests feed exactly these float32 values.
import json
import os

import torch

torch.manual_seed(20150211)  # arXiv 1502.03167
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def enc(t):
    """A tensor as {shape, data}; 9 significant digits round-trip float32 exactly."""
    t = t.detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def draw(shape):
    """Per-channel offsets and scales, so statistics differ between channels and from the running defaults."""
    c = shape[1]
    view = [1, c] + [1] * (len(shape) - 2)
    return torch.randn(*shape) * (0.5 + torch.rand(c)).reshape(view) + torch.randn(c).reshape(view)


def step(m, x, record_params):
    x = x.clone().requires_grad_(True)
    y = m(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    s = {'x': enc(x), 'dy': enc(dy), 'y': enc(y), 'dx': enc(x.grad)}
    if record_params and m.weight is not None:
        s['dweight'] = enc(m.weight.grad)
        s['dbias'] = enc(m.bias.grad)
    if m.track_running_stats:
        s['running_mean'] = enc(m.running_mean)
        s['running_var'] = enc(m.running_var)
        s['num_batches_tracked'] = int(m.num_batches_tracked.item())
    m.zero_grad()
    return s


def bn_case(kind, shape, momentum=0.1, affine=True, track=True, eps=1e-5):
    cls = torch.nn.BatchNorm1d if kind == '1d' else torch.nn.BatchNorm2d
    m = cls(shape[1], eps=eps, momentum=momentum, affine=affine, track_running_stats=track)
    c = {'kind': kind, 'shape': list(shape), 'opts': {'momentum': momentum, 'affine': affine, 'trackRunningStats': track, 'eps': eps}}
    if affine:
        with torch.no_grad():
            m.weight.copy_(1 + 0.5 * torch.randn(shape[1]))
            m.bias.copy_(0.5 * torch.randn(shape[1]))
        c['init'] = {'weight': enc(m.weight), 'bias': enc(m.bias)}
    m.train()
    c['train'] = [step(m, draw(shape), True) for _ in range(5)]
    m.eval()
    c['eval'] = step(m, draw(shape), True)
    c['state_dict'] = {k: enc(v) if v.dim() > 0 else int(v.item()) for k, v in m.state_dict().items()}
    return c


def bn_fixtures():
    cases = {}
    specs = [
        ('bn1d_nc', '1d', (6, 3), {}),
        ('bn1d_ncl', '1d', (4, 3, 3), {}),
        ('bn2d', '2d', (2, 3, 2, 3), {}),
        ('bn2d_m05', '2d', (2, 3, 2, 3), {'momentum': 0.5}),
        ('bn1d_ncl_m05', '1d', (4, 3, 3), {'momentum': 0.5}),
        ('bn1d_nc_mnull', '1d', (6, 3), {'momentum': None}),
        ('bn2d_mnull', '2d', (3, 2, 2, 3), {'momentum': None}),
        ('bn1d_nc_noaffine', '1d', (6, 3), {'affine': False}),
        ('bn2d_noaffine', '2d', (2, 3, 2, 3), {'affine': False}),
        ('bn1d_ncl_notrack', '1d', (4, 3, 3), {'track': False}),
        ('bn2d_notrack', '2d', (2, 3, 2, 3), {'track': False}),
        ('bn2d_notrack_noaffine', '2d', (2, 2, 3, 3), {'track': False, 'affine': False}),
        ('bn1d_nc_eps1e3', '1d', (6, 3), {'eps': 1e-3}),
        ('bn2d_eps1e3', '2d', (2, 3, 2, 3), {'eps': 1e-3}),
        ('bn1d_nc_batch2', '1d', (2, 4), {}),
        ('bn1d_ncl_batch2', '1d', (2, 3, 2), {'momentum': None}),
        ('bn2d_batch2', '2d', (2, 3, 1, 2), {}),
        ('bn2d_mnull_noaffine_eps1e3', '2d', (3, 2, 2, 2), {'momentum': None, 'affine': False, 'eps': 1e-3}),
    ]
    for name, kind, shape, kw in specs:
        cases[name] = bn_case(kind, shape, **kw)
    return cases


def norm_case(m, shape):
    if getattr(m, 'weight', None) is not None:
        with torch.no_grad():
            m.weight.copy_(1 + 0.5 * torch.randn(m.weight.shape))
            m.bias.copy_(0.5 * torch.randn(m.bias.shape))
    x = draw(shape).requires_grad_(True)
    y = m(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    c = {'shape': list(shape), 'x': enc(x), 'dy': enc(dy), 'y': enc(y), 'dx': enc(x.grad)}
    if getattr(m, 'weight', None) is not None:
        c.update({'weight': enc(m.weight), 'bias': enc(m.bias), 'dweight': enc(m.weight.grad), 'dbias': enc(m.bias.grad)})
    return c


def ln_gn_fixtures():
    cases = {}
    for name, norm_shape, shape, affine in [
        ('ln_last', [5], (3, 4, 5), True),
        ('ln_last2', [4, 5], (3, 4, 5), True),
        ('ln_noaffine', [6], (4, 6), False),
    ]:
        c = norm_case(torch.nn.LayerNorm(norm_shape, elementwise_affine=affine), shape)
        c.update({'normalizedShape': norm_shape, 'affine': affine})
        cases[name] = c
    for name, groups, shape, affine, eps in [
        ('gn_g3', 3, (2, 6, 2, 2), True, 1e-5),
        ('gn_g1_ncl', 1, (3, 4, 3), True, 1e-5),
        ('gn_instance', 4, (2, 4, 3), True, 1e-3),
        ('gn_noaffine', 2, (2, 4, 2, 2), False, 1e-5),
    ]:
        c = norm_case(torch.nn.GroupNorm(groups, shape[1], eps=eps, affine=affine), shape)
        c.update({'numGroups': groups, 'affine': affine, 'eps': eps})
        cases[name] = c
    return cases


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': obj}, f, separators=(',', ':'))
    print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    write('bn_modules.json', bn_fixtures())
    write('bn_layer_group.json', ln_gn_fixtures())
