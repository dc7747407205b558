#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// Nielsen's "Neural Networks and Deep Learning", chapter 1: a 784-30-10 network of sigmoid neurons,
// quadratic cost C = 1/2n Σ‖y - a‖², mini-batches of 10, learning rate η = 3.0, 30 epochs.
// His book reports about 95% (best epoch 95.42%).
using Dendrite;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 30;
var (train, test) = Mnist.Load();
var model = new Sequential(
    new Flatten(inputShape: [28, 28]),
    new Rescaling(1f / 255),
    new Dense(30, activation: "sigmoid", kernelInitializer: Initializer.RandomNormal(0f, 1f), biasInitializer: Initializer.RandomNormal(0f, 1f)),
    new Dense(10, activation: "sigmoid", kernelInitializer: Initializer.RandomNormal(0f, 1f), biasInitializer: Initializer.RandomNormal(0f, 1f))) { Seed = 1 };
model.Compile(loss: "quadratic", optimizer: new SGD(learningRate: 3.0f), metrics: ["accuracy"]);
var history = model.Fit(train, batchSize: 10, epochs: epochs, validationData: test);
Console.WriteLine($"Test accuracy: {history.ValAccuracy[^1]:F4} after {epochs} epochs, best {history.ValAccuracy.Max():F4}   (Nielsen: about 0.95)");
Console.WriteLine($"Seconds per epoch (after the first): {history.EpochSeconds.Skip(1).DefaultIfEmpty(history.EpochSeconds[0]).Average():F2}");
