"""PyTorch twins of dlfs's catalog models, with the same module paths, so a dlfs checkpoint
(model.safetensors) loads with load_state_dict(strict=True) and computes the same outputs.

Used by bench/check_pytorch_load.py and bench/compare_pytorch.py.
"""
import torch
from torch import nn


class Sequential(nn.Module):
    """Named children run in order (names are dlfs node names, e.g. 'conv1', 'relu1')."""

    def __init__(self, layers):
        super().__init__()
        self._order = []
        for name, module in layers:
            self._order.append(name)
            if "." in name:  # "features.0": a child of an nn.Sequential called features
                parent, index = name.split(".")
                if not hasattr(self, parent):
                    self.add_module(parent, nn.Sequential())
                getattr(self, parent).add_module(index, module)
            else:
                self.add_module(name, module)

    def forward(self, x):
        for name in self._order:
            module = self
            for part in name.split("."):
                module = getattr(module, part)
            x = module(x)
        return x


def mlp(name, classes=10):
    layers = [("flatten", nn.Flatten())]
    hidden = 1 if name == "two-layer-net" else 4
    width = 784
    for i in range(1, hidden + 1):
        layers.append((f"fc{i}", nn.Linear(width, 100)))
        if name == "mlp-bn":
            layers.append((f"bn{i}", nn.BatchNorm1d(100)))
        layers.append((f"relu{i}", nn.ReLU()))
        if name == "mlp-dropout":
            layers.append((f"dropout{i}", nn.Dropout(0.2)))
        width = 100
    layers.append((f"fc{hidden + 1}", nn.Linear(width, classes)))
    return Sequential(layers)


def lenet5(size=28, classes=10):
    return Sequential([
        ("conv1", nn.Conv2d(1, 6, 5, padding=2 if size == 28 else 0)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2, 2)),
        ("conv2", nn.Conv2d(6, 16, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2, 2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)), ("relu3", nn.ReLU()),
        ("fc2", nn.Linear(120, 84)), ("relu4", nn.ReLU()),
        ("fc3", nn.Linear(84, classes)),
    ])


def simple_convnet(classes=10):
    return Sequential([
        ("conv1", nn.Conv2d(1, 30, 5)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2, 2)),
        ("flatten", nn.Flatten()), ("fc1", nn.Linear(30 * 12 * 12, 100)), ("relu2", nn.ReLU()),
        ("fc2", nn.Linear(100, classes)),
    ])


def deep_convnet(classes=10):
    return Sequential([
        ("conv1", nn.Conv2d(1, 16, 3, padding=1)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(16, 16, 3, padding=1)), ("relu2", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2, 2)),
        ("conv3", nn.Conv2d(16, 32, 3, padding=1)), ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(32, 32, 3, padding=2)), ("relu4", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2, 2)),
        ("conv5", nn.Conv2d(32, 64, 3, padding=1)), ("relu5", nn.ReLU()),
        ("conv6", nn.Conv2d(64, 64, 3, padding=1)), ("relu6", nn.ReLU()),
        ("pool3", nn.MaxPool2d(2, 2)),
        ("flatten", nn.Flatten()), ("fc1", nn.Linear(64 * 4 * 4, 50)), ("relu7", nn.ReLU()),
        ("dropout1", nn.Dropout(0.5)), ("fc2", nn.Linear(50, classes)),
        ("dropout2", nn.Dropout(0.5)),
    ])


def alexnet(size=28, classes=10):
    """torchvision's AlexNet without its adaptive average pool (the identity at 224); at 28 dlfs's
    small variant: 3x3 kernels, 2x2 pools, a 1024-wide classifier (models/alexnet.cpp)."""
    if size == 224:
        stem = [nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
                nn.Conv2d(64, 192, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(3, 2)]
    else:
        stem = [nn.Conv2d(1, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
                nn.Conv2d(64, 192, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2)]
    features = stem + [nn.Conv2d(192, 384, 3, 1, 1), nn.ReLU(), nn.Conv2d(384, 256, 3, 1, 1),
                       nn.ReLU(), nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2)]
    spatial, hidden = (6, 4096) if size == 224 else (3, 1024)
    classifier = [nn.Dropout(0.5), nn.Linear(256 * spatial * spatial, hidden), nn.ReLU(),
                  nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(),
                  nn.Linear(hidden, classes)]
    return Sequential([(f"features.{i}", m) for i, m in enumerate(features)] +
                      [("flatten", nn.Flatten())] +
                      [(f"classifier.{i}", m) for i, m in enumerate(classifier)])


def vgg_small(name, classes=10):
    """dlfs's 28x28 VGG variant: widths / 4, three poolings, a 256-wide classifier."""
    configs = {
        "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
        "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512,
                  512, "M"],
    }
    bn = name.endswith("-bn")
    layers, index, channels, pools, size = [], 0, 1, 0, 28
    for v in configs[name.replace("-bn", "")]:
        if v == "M":
            if pools == 3:
                continue
            layers.append((f"features.{index}", nn.MaxPool2d(2, 2)))
            index, pools, size = index + 1, pools + 1, size // 2
            continue
        width = v // 4
        layers.append((f"features.{index}", nn.Conv2d(channels, width, 3, padding=1)))
        index += 1
        if bn:
            layers.append((f"features.{index}", nn.BatchNorm2d(width)))
            index += 1
        layers.append((f"features.{index}", nn.ReLU()))
        index += 1
        channels = width
    layers += [
        ("flatten", nn.Flatten()),
        ("classifier.0", nn.Linear(channels * size * size, 256)), ("classifier.1", nn.ReLU()),
        ("classifier.2", nn.Dropout(0.5)), ("classifier.3", nn.Linear(256, 256)),
        ("classifier.4", nn.ReLU()), ("classifier.5", nn.Dropout(0.5)),
        ("classifier.6", nn.Linear(256, classes)),
    ]
    return Sequential(layers)


def vgg_small_bn(classes=10):
    """dlfs's vgg-small-bn (models/vgg_small.cpp): 2x32, 2x64, 2x128 convs with BN, 3 pools."""
    layers, index, channels = [], 0, 1
    for width in (32, 64, 128):
        for _ in range(2):
            layers += [(f"features.{index}", nn.Conv2d(channels, width, 3, padding=1)),
                       (f"features.{index + 1}", nn.BatchNorm2d(width)),
                       (f"features.{index + 2}", nn.ReLU())]
            index, channels = index + 3, width
        layers += [(f"features.{index}", nn.MaxPool2d(2, 2)),
                   (f"features.{index + 1}", nn.Dropout(0.25))]
        index += 2
    layers += [
        ("flatten", nn.Flatten()),
        ("classifier.0", nn.Linear(channels * 3 * 3, 256)), ("classifier.1", nn.ReLU()),
        ("classifier.2", nn.Dropout(0.5)), ("classifier.3", nn.Linear(256, classes)),
    ]
    return Sequential(layers)


class BasicBlock(nn.Module):
    """dlfs's basic residual block (models/resnet.cpp), with torchvision's module names."""
    expansion = 1

    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample(inplanes, planes, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class Bottleneck(nn.Module):
    """dlfs's bottleneck block (1x1, 3x3 with the stride, 1x1 to 4x the width)."""
    expansion = 4

    def __init__(self, inplanes, planes, stride):
        super().__init__()
        width, out = planes, planes * 4
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = downsample(inplanes, planes, stride, 4)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


def downsample(inplanes, planes, stride, expansion=1):
    """The 1x1 conv + BN shortcut ("downsample.0", "downsample.1") where the shape changes."""
    out = planes * expansion
    if stride == 1 and inplanes == out:
        return None
    return nn.Sequential(nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out))


CIFAR_RESNETS = ("resnet20", "resnet32", "resnet56", "resnet14-w2")


class ResNet(nn.Module):
    """dlfs's ResNets: torchvision's resnet18/34/50 at 224 (7x7 stem, max-pool); at 28 a 3x3
    stride-1 stem without max-pool on 1-channel images; resnet20, resnet32 and resnet56 are the
    CIFAR nets (16-32-64 channels, 3, 5 and 9 blocks per stage) on 1x28x28 or 3x32x32 images,
    resnet14-w2 the same with 2 blocks per stage of 32-64-128 channels."""

    def __init__(self, name, size=28, classes=10):
        super().__init__()
        block = Bottleneck if name == "resnet50" else BasicBlock
        blocks = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3], "resnet50": [3, 4, 6, 3],
                  "resnet20": [3, 3, 3], "resnet32": [5, 5, 5], "resnet56": [9, 9, 9],
                  "resnet14-w2": [2, 2, 2]}[name]
        widths = [16, 32, 64] if name in CIFAR_RESNETS else [64, 128, 256, 512]
        if name == "resnet14-w2":
            widths = [32, 64, 128]
        in_channels = 1 if size == 28 else 3
        self.imagenet = size == 224
        if self.imagenet:
            self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if self.imagenet else None
        channels = widths[0]
        for stage, (count, width) in enumerate(zip(blocks, widths)):
            layers = []
            for i in range(count):
                stride = 2 if stage > 0 and i == 0 else 1
                layers.append(block(channels, width, stride))
                channels = width * block.expansion
            self.add_module(f"layer{stage + 1}", nn.Sequential(*layers))
        self.stages = len(blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for stage in range(self.stages):
            x = getattr(self, f"layer{stage + 1}")(x)
        return self.fc(self.flatten(self.avgpool(x)))


class ResNetSmall(nn.Module):
    """dlfs's resnet-small (models/resnet_small.cpp): vgg-small-bn with each pair of convs a
    basic block; layerN is (block, max-pool, dropout), then vgg-small-bn's classifier."""

    def __init__(self, classes=10):
        super().__init__()
        channels = 1
        for stage, width in enumerate((32, 64, 128)):
            self.add_module(f"layer{stage + 1}",
                            nn.Sequential(BasicBlock(channels, width, 1), nn.MaxPool2d(2, 2),
                                          nn.Dropout(0.25)))
            channels = width
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Linear(channels * 3 * 3, 256), nn.ReLU(),
                                        nn.Dropout(0.5), nn.Linear(256, classes))

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.classifier(self.flatten(x))


class BasicConv2d(nn.Module):
    """torchvision's BasicConv2d: conv (no bias), BatchNorm (eps 0.001), ReLU."""

    def __init__(self, inputs, outputs, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(inputs, outputs, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(outputs, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """torchvision's Inception block (its branch3 is 1x1 then 3x3), branches joined by cat."""

    def __init__(self, inputs, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(inputs, ch1x1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(inputs, ch3x3red, 1),
                                     BasicConv2d(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(inputs, ch5x5red, 1),
                                     BasicConv2d(ch5x5red, ch5x5, 3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), BasicConv2d(inputs, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """torchvision's auxiliary classifier, its adaptive 4x4 pool a fixed window as in dlfs."""

    def __init__(self, inputs, classes, imagenet):
        super().__init__()
        self.pool = nn.AvgPool2d(5, 3) if imagenet else nn.AvgPool2d(3, 2, 1)
        self.conv = BasicConv2d(inputs, 128, 1)
        self.fc1 = nn.Linear(2048, 1024)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, classes)

    def forward(self, x):
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))


class GoogLeNet(nn.Module):
    """dlfs's GoogLeNet (models/googlenet.cpp): torchvision's, with the stem pools padded by 1
    instead of ceil_mode (the same sizes at 224); at 28 a 3x3 stride-1 first conv and no first
    max-pool. forward returns the main logits; with aux, an eval-mode forward also leaves the
    auxiliary classifiers' logits in aux_outputs (the training loss that uses them is dlfs's)."""

    def __init__(self, name, size=28, classes=10):
        super().__init__()
        self.imagenet = size == 224
        if self.imagenet:
            self.conv1 = BasicConv2d(3, 64, 7, 2, 3)
            self.maxpool1 = nn.MaxPool2d(3, 2, 1)
        else:
            self.conv1 = BasicConv2d(1, 64, 3, 1, 1)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, 2, 1)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, 2, 1)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, 2)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.aux = name == "googlenet-aux"
        if self.aux:
            self.aux1 = InceptionAux(512, classes, self.imagenet)
            self.aux2 = InceptionAux(528, classes, self.imagenet)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, classes)

    def forward(self, x):
        x = self.conv1(x)
        if self.imagenet:
            x = self.maxpool1(x)
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux_input1 = x
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        if self.aux and not self.training:
            self.aux_outputs = {"aux1": self.aux1(aux_input1), "aux2": self.aux2(x)}
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


def build(name, size=28, classes=10):
    if name in ("two-layer-net", "mlp", "mlp-bn", "mlp-dropout"):
        return mlp(name, classes)
    if name == "lenet5":
        return lenet5(size, classes)
    if name == "alexnet":
        return alexnet(size, classes)
    if name == "simple-convnet":
        return simple_convnet(classes)
    if name == "deep-convnet":
        return deep_convnet(classes)
    if name == "vgg-small-bn":
        return vgg_small_bn(classes)
    if name.startswith("vgg") and size == 28:
        return vgg_small(name, classes)
    if name in ("resnet18", "resnet34", "resnet50") and size in (28, 224):
        return ResNet(name, size, classes)
    if name in CIFAR_RESNETS and size in (28, 32):
        return ResNet(name, size, classes)
    if name == "resnet-small" and size == 28:
        return ResNetSmall(classes)
    if name in ("googlenet", "googlenet-aux") and size in (28, 224):
        return GoogLeNet(name, size, classes)
    raise ValueError(f"no PyTorch twin for {name} at {size}")
