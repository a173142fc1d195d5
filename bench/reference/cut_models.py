"""Python mirror of fashioncut's CUT networks, losses and Fashion CUT training step.

Written from the C++ sources, module by module, so that timings compare the same work:
  ResnetGenerator      <- src/fashioncut/models/resnet_generator.{h,cpp}
  BlurDownsample/Up    <- src/fashioncut/models/blur_pool.{h,cpp}
  PatchDiscriminator   <- src/fashioncut/models/patch_discriminator.{h,cpp}
  PatchSampleMlp       <- src/fashioncut/models/patch_sample_mlp.{h,cpp}
  init_cut_weights     <- src/fashioncut/models/init.{h,cpp}
  make_classifier      <- src/fashioncut/models/{classifier,resnet}.{h,cpp} (torchvision resnet, same layout)
  lsgan / patch_nce    <- src/fashioncut/losses/{gan_loss,patch_nce,classification}.cpp
  FashionCutStep       <- src/fashioncut/train/methods/cut_methods.cpp (CutMethod::train_step, fashion-cut)
Settings              <- src/fashioncut/train/train_config.h defaults + configs/{fmnist,catalog-small}.toml
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

# --------------------------------------------------------------------------- configs
# TrainConfig defaults (train_config.h) overridden by the toml files. Only what the step uses.
DEFAULTS = dict(
    batch_size=8, ngf=32, n_blocks=6, ndf=32, n_layers_d=3, antialias=True,
    nce_layers=[0, 4, 8, 12, 16], num_patches=256, netf_nc=256, nce_t=0.07,
    lambda_gan=1.0, lambda_nce=1.0, nce_idt=True, lr=2e-4, beta1=0.5, beta2=0.999,
    arch="resnet18", small_input=True, classifier_lr=2e-4, lambda_c=1.0,
    pseudo_label_threshold=0.0, pseudo_label_fraction=0.5, pseudo_label_align=True,
    pseudo_label_momentum=0.99, target_bn=True, g_residual=False,
    classifier_ema=0.0, pseudo_label_teacher="self", pseudo_label_augment="none",
)

CONFIGS = {
    # configs/fmnist.toml: synth:fmnist (10 garment classes) -> fmnist:train, 32 px gray.
    "fmnist": dict(DEFAULTS, image_size=32, channels=1, num_classes=10, batch_size=8, ngf=16, n_blocks=4,
                   ndf=16, nce_layers=[0, 4, 8, 12, 14], num_patches=64, arch="resnet18",
                   small_input=False, classifier_lr=0.0005, classifier_ema=0.99, pseudo_label_teacher="ema",
                   pseudo_label_augment="weak"),
    # configs/catalog-small.toml: synth:catalog?label=pattern (7 materials) -> photos, 64 px RGB.
    "catalog-small": dict(DEFAULTS, image_size=64, channels=3, num_classes=7, batch_size=8, ngf=32,
                          n_blocks=6, ndf=32, nce_layers=[0, 4, 8, 12, 16], num_patches=128,
                          arch="resnet18", small_input=True),
}


# --------------------------------------------------------------------------- init
def init_cut_weights(module, gain=0.02):
    """CUT init_weights('xavier', gain): conv/linear weights xavier_normal_(gain), biases 0."""
    kinds = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
             nn.Linear)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, kinds):
                nn.init.xavier_normal_(m.weight, gain)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                if m.weight is not None:
                    nn.init.normal_(m.weight, 1.0, gain)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


# --------------------------------------------------------------------------- blur pool
def binomial_filter(size):
    row = [1.0]
    for _ in range(1, size):
        row = [a + b for a, b in zip(row + [0.0], [0.0] + row)]
    a = torch.tensor(row, dtype=torch.float64)
    f = torch.outer(a, a)
    return (f / f.sum()).float()


class BlurDownsample(nn.Module):
    """Reflect pad, depthwise binomial conv, stride 2 (buffer `filt`)."""

    def __init__(self, channels, filt_size=3):
        super().__init__()
        f = binomial_filter(filt_size)
        self.register_buffer("filt", f.view(1, 1, filt_size, filt_size).repeat(channels, 1, 1, 1))
        self.lo, self.hi = (filt_size - 1) // 2, filt_size // 2

    def forward(self, x):
        p = F.pad(x, [self.lo, self.hi, self.lo, self.hi], mode="reflect")
        return F.conv2d(p, self.filt, stride=2, groups=x.shape[1])


class BlurUpsample(nn.Module):
    """Replicate pad 1, depthwise transposed conv (filter*4), stride 2, crop to 2H x 2W."""

    def __init__(self, channels, filt_size=4):
        super().__init__()
        f = binomial_filter(filt_size) * 4.0
        self.register_buffer("filt", f.view(1, 1, filt_size, filt_size).repeat(channels, 1, 1, 1))
        self.k = filt_size
        self.pad_size = (filt_size - 1) // 2

    def forward(self, x):
        p = F.pad(x, [1, 1, 1, 1], mode="replicate")
        y = F.conv_transpose2d(p, self.filt, stride=2, padding=1 + self.pad_size, groups=x.shape[1])
        y = y[:, :, 1:, 1:]
        if self.k % 2 == 0:
            y = y[:, :, :-1, :-1]
        return y


# --------------------------------------------------------------------------- generator
def _conv(cin, cout, k, stride, pad):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=True)


def _inorm(c):
    return nn.InstanceNorm2d(c, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), _conv(dim, dim, 3, 1, 0), _inorm(dim),
                                        nn.ReLU(True), nn.ReflectionPad2d(1), _conv(dim, dim, 3, 1, 0),
                                        _inorm(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf, n_blocks, antialias=True, antialias_up=True, init_gain=0.02,
                 residual=False):
        super().__init__()
        layers, self.out_channels = [], []
        self.residual = residual

        def add(m, c):
            layers.append(m)
            self.out_channels.append(c)

        self.input_nc, self.n_blocks, self.antialias = input_nc, n_blocks, antialias
        add(nn.ReflectionPad2d(3), input_nc)
        add(_conv(input_nc, ngf, 7, 1, 0), ngf)
        add(_inorm(ngf), ngf)
        add(nn.ReLU(True), ngf)
        for i in range(2):
            cin, cout = ngf << i, ngf << (i + 1)
            add(_conv(cin, cout, 3, 1 if antialias else 2, 1), cout)
            add(_inorm(cout), cout)
            add(nn.ReLU(True), cout)
            if antialias:
                add(BlurDownsample(cout), cout)
        dim = ngf * 4
        for _ in range(n_blocks):
            add(ResnetBlock(dim), dim)
        for i in range(2):
            cin, cout = dim >> i, dim >> (i + 1)
            if antialias_up:
                add(BlurUpsample(cin), cin)
                add(_conv(cin, cout, 3, 1, 1), cout)
            else:
                add(nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1, bias=True), cout)
            add(_inorm(cout), cout)
            add(nn.ReLU(True), cout)
        add(nn.ReflectionPad2d(3), ngf)
        add(_conv(ngf, output_nc, 7, 1, 0), output_nc)
        add(nn.Tanh(), output_nc)
        self.model = nn.Sequential(*layers)
        if init_gain > 0:
            init_cut_weights(self, init_gain)
        if residual:  # G(x) = clamp(x + g(x), -1, 1), g's output conv zero-initialised
            with torch.no_grad():
                self.model[-2].weight.zero_()
                self.model[-2].bias.zero_()

    def last_block_index(self):
        return 4 + 2 * (4 if self.antialias else 3) + self.n_blocks - 1

    def nce_channels(self, ids):
        return [self.out_channels[i] for i in ids]

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        ph, pw = (4 - h % 4) % 4, (4 - w % 4) % 4
        inp = F.pad(x, [0, pw, 0, ph], mode="reflect") if (ph or pw) else x
        y = self.model(inp)
        y = y[:, :, :h, :w] if (ph or pw) else y
        return (x + y).clamp(-1, 1) if self.residual else y

    def forward_with_features(self, x, ids):
        """forward(x) and encode(x, ids) from one pass (H, W multiples of 4)."""
        feats, nxt, y, captured = [], 0, x, False
        for index, layer in enumerate(self.model):
            # an in-place ReLU right after a captured map would overwrite it
            y = F.relu(y) if captured and isinstance(layer, nn.ReLU) and layer.inplace else layer(y)
            captured = nxt < len(ids) and index == ids[nxt]
            if captured:
                feats.append(y)
                nxt += 1
        return ((x + y).clamp(-1, 1) if self.residual else y), feats

    def encode(self, x, ids):
        feats, nxt, feat = [], 0, x
        for index, layer in enumerate(self.model):
            feat = layer(feat)
            if index == ids[nxt]:
                feats.append(feat)
                nxt += 1
                if nxt == len(ids):
                    break
        return feats


# --------------------------------------------------------------------------- discriminator
class PatchDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf, n_layers=3, antialias=True, init_gain=0.02):
        super().__init__()
        stride = 1 if antialias else 2

        def conv4(cin, cout, s):
            return nn.Conv2d(cin, cout, 4, stride=s, padding=1, bias=True)

        def lrelu():
            return nn.LeakyReLU(0.2, True)

        seq = [conv4(input_nc, ndf, stride), lrelu()]
        if antialias:
            seq.append(BlurDownsample(ndf))
        mult = 1
        for n in range(1, n_layers):
            mult_prev, mult = mult, min(1 << n, 8)
            seq += [conv4(ndf * mult_prev, ndf * mult, stride), _inorm(ndf * mult), lrelu()]
            if antialias:
                seq.append(BlurDownsample(ndf * mult))
        mult_prev, mult = mult, min(1 << min(n_layers, 3), 8)
        seq += [conv4(ndf * mult_prev, ndf * mult, 1), _inorm(ndf * mult), lrelu(), conv4(ndf * mult, 1, 1)]
        self.model = nn.Sequential(*seq)
        if init_gain > 0:
            init_cut_weights(self, init_gain)

    def forward(self, x):
        return self.model(x)


# --------------------------------------------------------------------------- netF
def l2_normalize_rows(x, eps=1e-7):
    return x / (x.pow(2).sum(1, keepdim=True).sqrt() + eps)


class PatchSampleMlp(nn.Module):
    """One Linear-ReLU-Linear per NCE layer (`mlp_<l>`), built up front as in the C++."""

    def __init__(self, in_channels, nc=256, init_gain=0.02):
        super().__init__()
        self.mlps = []
        for l, c in enumerate(in_channels):
            m = nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc))
            self.add_module("mlp_%d" % l, m)
            self.mlps.append(m)
        if init_gain > 0:
            init_cut_weights(self, init_gain)

    def forward(self, feats, num_patches, patch_ids=None):
        out_feats, out_ids = [], []
        for l, feat in enumerate(feats):
            b, c = feat.shape[0], feat.shape[1]
            hw = feat.shape[2] * feat.shape[3]
            flat = feat.permute(0, 2, 3, 1).reshape(b, hw, c)
            if patch_ids is None:
                ids = torch.randperm(hw, dtype=torch.long)[:min(num_patches, hw)].to(feat.device)
            else:
                ids = patch_ids[l]
            sample = flat.index_select(1, ids).reshape(-1, c)
            out_feats.append(l2_normalize_rows(self.mlps[l](sample)))
            out_ids.append(ids)
        return out_feats, out_ids


# --------------------------------------------------------------------------- classifier
def make_classifier(arch, num_classes, in_channels, small_input):
    """torchvision ResNet with our stem choices (models/resnet.cpp): in_channels 1|3; small_input =
    3x3 stride-1 conv1 and no max-pool. Init as torchvision (conv1 re-initialised kaiming fan_out)."""
    net = getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)
    if small_input:
        net.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
    nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
    return net


# --------------------------------------------------------------------------- losses
def lsgan_loss(pred, target_is_real):
    return F.mse_loss(pred, torch.full_like(pred, 1.0 if target_is_real else 0.0))


def patch_nce_loss(feat_q, feat_k, batch_size, tau=0.07):
    dim = feat_q.shape[1]
    feat_k = feat_k.detach()
    l_pos = (feat_q * feat_k).sum(1, keepdim=True)
    q = feat_q.reshape(batch_size, -1, dim)
    k = feat_k.reshape(batch_size, -1, dim)
    m = q.shape[1]
    l_neg = torch.bmm(q, k.transpose(1, 2))
    diag = torch.eye(m, dtype=torch.bool, device=feat_q.device).unsqueeze(0)
    l_neg = l_neg.masked_fill(diag, -10.0).reshape(-1, m)
    logits = torch.cat([l_pos, l_neg], 1) / tau
    return -torch.log_softmax(logits, 1).select(1, 0)


def patch_nce_multi(qs, ks, batch_size, tau=0.07):
    total = None
    for q, k in zip(qs, ks):
        layer = patch_nce_loss(q, k, batch_size, tau).mean()
        total = layer if total is None else total + layer
    return total / float(len(qs))


def pseudo_label_ce(logits, threshold, prior=None, label_logits=None):
    """Confidence-masked pseudo-label CE; with `prior` the labels come from softmax / prior
    (distribution alignment, losses::aligned_pseudo_label_cross_entropy); the labels are chosen by
    `label_logits` (a teacher's) when given, else by `logits`."""
    with torch.no_grad():
        probs = torch.softmax((logits if label_logits is None else label_logits).detach(), 1)
        if prior is not None:
            probs = probs / prior.to(probs.dtype).unsqueeze(0)
            probs = probs / probs.sum(1, keepdim=True)
        conf, labels = probs.max(1)
        mask = (conf > threshold).to(logits.dtype)
    per_row = F.cross_entropy(logits, labels, reduction="none")
    return (per_row * mask).mean(), mask.mean()


def random_shift_flip(x, max_shift):
    """data::random_shift_flip: each image shifted by up to max_shift (edges replicated), then
    flipped left-right with probability 1/2."""
    n, _, h, w = x.shape
    s = max_shift
    draws = torch.randint(0, 2 * s + 1, (n, 2))
    flips = torch.randint(0, 2, (n,))
    padded = F.pad(x, (s, s, s, s), mode="replicate") if s > 0 else x
    rows = []
    for i in range(n):
        dy, dx = int(draws[i, 0]) - s, int(draws[i, 1]) - s
        r = padded[i, :, s - dy:s - dy + h, s - dx:s - dx + w]
        rows.append(r.flip(2) if int(flips[i]) == 1 else r)
    return torch.stack(rows)


class WeightAverage:
    """train::WeightEma: ema <- m_t ema + (1 - m_t) w, m_t = min(m, (1 + t) / (10 + t)); integer
    buffers copied. Holds a copy of the module whose forward is the teacher's."""

    def __init__(self, module):
        self.model = copy.deepcopy(module)
        self.t = 0

    @torch.no_grad()
    def update(self, module, momentum):
        m = min(momentum, (1.0 + self.t) / (10.0 + self.t))
        live = list(module.parameters()) + list(module.buffers())
        avg = list(self.model.parameters()) + list(self.model.buffers())
        for a, w in zip(avg, live):
            if a.is_floating_point():
                a.lerp_(w, 1.0 - m)
            else:
                a.copy_(w)
        self.t += 1


# --------------------------------------------------------------------------- the step
def set_requires_grad(module, on):
    for p in module.parameters():
        p.requires_grad_(on)


class FashionCutStep:
    """G, D, F, C and their optimisers as CutMethod (variant fashion-cut) builds them."""

    def __init__(self, cfg, device="cpu"):
        self.c = cfg
        ch = cfg["channels"]
        self.G = ResnetGenerator(ch, ch, cfg["ngf"], cfg["n_blocks"], cfg["antialias"], cfg["antialias"],
                                 residual=cfg["g_residual"]).to(device)
        self.D = PatchDiscriminator(ch, cfg["ndf"], cfg["n_layers_d"], cfg["antialias"]).to(device)
        self.F = PatchSampleMlp(self.G.nce_channels(cfg["nce_layers"]), cfg["netf_nc"]).to(device)
        self.C = make_classifier(cfg["arch"], cfg["num_classes"], ch, cfg["small_input"]).to(device)
        betas = (cfg["beta1"], cfg["beta2"])
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg["lr"], betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg["lr"], betas=betas)
        self.opt_f = torch.optim.Adam(self.F.parameters(), lr=cfg["lr"], betas=betas)
        # CutMethod: opt_c_ = Adam(C params, AdamOptions(classifier_lr)) -> betas (0.9, 0.999).
        self.opt_c = torch.optim.Adam(self.C.parameters(), lr=cfg["classifier_lr"])
        self.nce_idt = cfg["nce_idt"]
        k = cfg["num_classes"]
        self.class_prior = torch.full((k,), 1.0 / k, dtype=torch.double)  # running mean of softmax(C(x_t))
        self.ema = WeightAverage(self.C) if cfg["classifier_ema"] > 0 else None

    def modules(self):
        return {"G": self.G, "D": self.D, "F": self.F, "C": self.C}

    def train(self):
        for m in self.modules().values():
            m.train()

    def nce(self, src, tgt):
        c = self.c
        feat_q = self.G.encode(tgt, c["nce_layers"])
        feat_k = self.G.encode(src, c["nce_layers"])
        k, ids = self.F(feat_k, c["num_patches"])
        q, _ = self.F(feat_q, c["num_patches"], ids)
        return patch_nce_multi(q, k, src.shape[0], c["nce_t"])

    def nce_from(self, keys, queries, n):
        c = self.c
        with torch.no_grad():
            k, ids = self.F(keys, c["num_patches"])
        q, _ = self.F(queries, c["num_patches"], ids)
        return patch_nce_multi(q, k, n, c["nce_t"])

    def step(self, xs, ys, xt, pseudo=False, shared=False):
        """One Fashion CUT iteration. pseudo=True: epoch >= pseudo_label_start (half of C's batch is
        real target images with pseudo-labels). shared=False: the CUT reference's formulation (the
        PatchNCE keys encoded again from the real images, D and each query set on its own batch);
        shared=True: CutMethod's (keys from G's forward pass, one encode and one D pass for both
        halves; the same losses). Returns the loss values (floats, as the C++ logs them)."""
        c = self.c
        stats = {}
        n = xs.shape[0]
        real = torch.cat([xs, xt]) if self.nce_idt else xs
        if shared:
            fake, keys = self.G.forward_with_features(real, c["nce_layers"])
            keys = [k.detach() for k in keys]
        else:
            fake = self.G(real)
        fake_b = fake.narrow(0, 0, n)

        set_requires_grad(self.D, True)
        self.opt_d.zero_grad()
        if shared:
            d_out = self.D(torch.cat([fake_b.detach(), xt]))
            loss_d = 0.5 * (lsgan_loss(d_out.narrow(0, 0, n), False) + lsgan_loss(d_out.narrow(0, n, n), True))
        else:
            loss_d = 0.5 * (lsgan_loss(self.D(fake_b.detach()), False) + lsgan_loss(self.D(xt), True))
        loss_d.backward()
        self.opt_d.step()
        set_requires_grad(self.D, False)

        self.opt_g.zero_grad()
        self.opt_f.zero_grad()
        self.opt_c.zero_grad()
        loss_gan = c["lambda_gan"] * lsgan_loss(self.D(fake_b), True)
        if shared:
            queries = self.G.encode(fake, c["nce_layers"])
            rows = lambda feats, start: [f.narrow(0, start, n) for f in feats]  # noqa: E731
            loss_nce = self.nce_from(rows(keys, 0), rows(queries, 0), n)
            if self.nce_idt:
                loss_nce = 0.5 * (loss_nce + self.nce_from(rows(keys, n), rows(queries, n), n))
        else:
            loss_nce = self.nce(xs, fake_b)
            if self.nce_idt:
                loss_nce = 0.5 * (loss_nce + self.nce(xt, fake.narrow(0, n, n)))
        total = loss_gan + c["lambda_nce"] * loss_nce
        stats["D/gan"] = loss_d.item()
        stats["G/gan"] = loss_gan.item()
        stats["G/nce"] = loss_nce.item()
        # target_bn: real rows share C's batch (its batch-norm statistics) from the first step;
        # their pseudo-label loss counts only in the pseudo phase.
        n_real = max(1, int(n * c["pseudo_label_fraction"])) if (pseudo or c["target_bn"]) else 0
        n_syn = n - n_real
        teacher_logits = None
        if pseudo and c["pseudo_label_teacher"] == "ema":
            with torch.no_grad():
                self.ema.model.eval()
                teacher_logits = self.ema.model(xt.narrow(0, 0, n_real))
        batch = fake_b.narrow(0, 0, n_syn)
        if n_real > 0:
            real_rows = xt.narrow(0, 0, n_real)
            if pseudo and c["pseudo_label_augment"] == "weak":
                real_rows = random_shift_flip(real_rows, max(1, real_rows.shape[3] // 8))
            batch = torch.cat([batch, real_rows])
        logits = self.C(batch)
        ce = F.cross_entropy(logits.narrow(0, 0, n_syn), ys.narrow(0, 0, n_syn))
        total = total + c["lambda_c"] * ce
        stats["C/ce"] = ce.item()
        if pseudo:
            real_logits = logits.narrow(0, n_syn, n_real)
            prior = self.class_prior if c["pseudo_label_align"] else None
            label_logits = real_logits if teacher_logits is None else teacher_logits
            pl, acc = pseudo_label_ce(real_logits, c["pseudo_label_threshold"], prior, label_logits)
            if prior is not None:
                m = c["pseudo_label_momentum"]
                batch_mean = torch.softmax(label_logits.detach(), 1).mean(0).double()
                self.class_prior = m * self.class_prior + (1 - m) * batch_mean
            total = total + pl
            stats["C/pseudo"] = pl.item()
            stats["pl/acceptance"] = acc.item()
        total.backward()
        self.opt_g.step()
        self.opt_f.step()
        self.opt_c.step()
        if self.ema is not None:
            self.ema.update(self.C, c["classifier_ema"])
        return stats


def count_params(module):
    return sum(p.numel() for p in module.parameters())
