#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// Logistic regression (softmax regression): 784 inputs straight to 10 softmax outputs, no hidden layer.
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

var (train, test) = Mnist.Load();
var model = new Sequential(
    new Flatten(inputShape: [28, 28]),
    new Rescaling(1f / 255),
    new Dense(10, activation: "softmax", kernelInitializer: "zeros")) { Seed = 1 };
model.Summary();
model.Compile(loss: "categorical_crossentropy", optimizer: new SGD(0.5f), metrics: ["accuracy"]);
var history = model.Fit(train, batchSize: 100, epochs: 10);
var result = model.Evaluate(test);
Console.WriteLine($"Test loss: {result.Loss:F4}, test accuracy: {result.Accuracy:F4}");
Console.WriteLine($"Seconds per epoch (after the first): {history.EpochSeconds.Skip(1).Average():F2}");
