#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// The tutorials' first neurons. A perceptron decides whether to go to France:
// x1 = "the weather is good" (weight 4), x2 = "a friend comes along" (weight 3), threshold 4.
// It outputs 1 ("go") when w·x > threshold. Then the perceptron rule learns AND, fails on XOR,
// and a sigmoid neuron learns OR by gradient descent. Last, the same perceptron as a Keras Dense layer.
using Dendrite;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Neurons;

var france = new Perceptron([4, 3], threshold: 4);                // or bias: -4; a bare 4 does not compile
Console.WriteLine("Go to France? weights (4, 3), threshold 4, output 1 when w·x > 4");
Console.WriteLine(" weather  friend  w·x  go");
foreach (var (weather, friend) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
{
    float[] x = [weather, friend];
    Console.WriteLine($"    {weather}       {friend}     {france.WeightedSum(x) + france.Threshold,2}   {france.Output(x)}");
}

float[][] inputs = [[0, 0], [0, 1], [1, 0], [1, 1]];
var and = new Perceptron([0, 0], bias: 0);
var mistakes = and.Train(inputs, [0, 0, 0, 1], learningRate: 1);
Console.WriteLine($"\nPerceptron rule on AND: mistakes per pass {string.Join(", ", mistakes)}; learned w = ({and.Weights[0]}, {and.Weights[1]}), threshold {and.Threshold}");
var xor = new Perceptron([0, 0], bias: 0).Train(inputs, [0, 1, 1, 0], epochs: 20);
Console.WriteLine($"Perceptron rule on XOR: still {xor[^1]} mistakes after {xor.Count} passes (XOR is not linearly separable)");

var neuron = new SigmoidNeuron([0, 0], 0);
var costs = neuron.Train(inputs, [0, 1, 1, 1], learningRate: 5, epochs: 2000);
Console.WriteLine($"\nSigmoid neuron on OR: quadratic cost {costs[0]:F4} -> {costs[^1]:F4}; outputs " +
    string.Join(", ", inputs.Select(x => $"{neuron.Output(x):F3}")));

// A Dense layer of one unit computes w·x + b; with the weights set by hand it is the France perceptron (bias = -threshold).
var unit = new Dense(1, inputShape: [2]);
unit.SetWeights(new Tensor([4f, 3f], 2, 1), new Tensor([-4f], 1));  // kernel (2, 1): weights 4 and 3; bias -4
var dense = new Sequential(unit);
Console.WriteLine("\nThe same perceptron as Dense(1) with weights (4, 3) and bias -4: go when w·x + b > 0");
foreach (var (weather, friend) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
{
    float z = dense.Predict(new Tensor([weather, friend], 2));       // one item, shape (2,): its one output
    Console.WriteLine($"    {weather}       {friend}     w·x + b = {z,2}   {(z > 0 ? 1 : 0)}");
}
