#!/usr/bin/env bash
# Retrains the model that `dendrite serve` ships with (data/models/mnist-convnet.dendrite): Keras's mnist_convnet
# (about 35k parameters) on MNIST with a fixed seed and thread count, so the same command gives the same weights.
# Prints the test accuracy; data/models/README.md quotes it. Usage: tools/train-bundled-model.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-18}"
dotnet run -c Release --project src/Dendrite.Cli -- train --arch convnet --epochs "$epochs" --seed 1 --threads 2 \
  --offline --save data/models/mnist-convnet.dendrite --overwrite
dotnet run -c Release --project src/Dendrite.Cli --no-build -- evaluate --model data/models/mnist-convnet.dendrite --offline
