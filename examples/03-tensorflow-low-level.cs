#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// The low-level TensorFlow tutorial: placeholders, variables, matmul, softmax cross-entropy and an
// optimizer's minimize, run for 1000 mini-batch iterations (the tutorial reaches about 95.5%).
using Dendrite;
using Dendrite.Data;
using Dendrite.Optimizers;

var (train, test) = Mnist.Load();
var rng = new Rng(1);
var xs = train.ImagesAsTensor(1f / 255).Reshape(-1, 784);
var ys = train.OneHotLabels();

var x = new Placeholder(784);                                      // tf.placeholder(tf.float32, [None, 784])
var y = new Placeholder(10);
var w1 = new Variable([784, 256], "truncated_normal", rng); var b1 = new Variable(new Tensor(256));
var w2 = new Variable([256, 128], "truncated_normal", rng); var b2 = new Variable(new Tensor(128));
var w3 = new Variable([128, 10], "truncated_normal", rng);  var b3 = new Variable(new Tensor(10));
var h1 = Ops.Relu(Ops.MatMul(x, w1) + b1);
var h2 = Ops.Relu(Ops.MatMul(h1, w2) + b2);
var logits = Ops.MatMul(h2, w3) + b3;
var loss = Ops.SoftmaxCrossEntropy(logits, y);                     // tf.nn.softmax_cross_entropy_with_logits
var optimizer = new SGD(learningRate: 0.5f);                       // tf.train.GradientDescentOptimizer(0.5)

int batch = 100;
var xb = new Tensor(batch, 784); var yb = new Tensor(batch, 10);
var order = Enumerable.Range(0, 60000).ToArray();
var clock = System.Diagnostics.Stopwatch.StartNew();
for (int i = 0; i < 1000; i++)
{
    if (i * batch % 60000 == 0) rng.Shuffle(order);
    for (int j = 0; j < batch; j++)
    {
        int k = order[(i * batch + j) % 60000];
        xs.Row(k).CopyTo(xb.Row(j)); ys.Row(k).CopyTo(yb.Row(j));
    }
    x.Feed(xb); y.Feed(yb);
    optimizer.Minimize(loss);                                      // sess.run(train_step, feed_dict=...)
    if ((i + 1) % 100 == 0) Console.WriteLine($"iteration {i + 1,4}: mini-batch loss {loss.Value[0]:F4}");
}

Console.WriteLine($"1000 iterations in {clock.Elapsed.TotalSeconds:F2} s");
x.Feed(test.ImagesAsTensor(1f / 255).Reshape(-1, 784));
var scores = logits.Evaluate();
int correct = Enumerable.Range(0, test.Count).Count(r => scores.Row(r).IndexOfMax() == test.Labels[r]);
Console.WriteLine($"Test accuracy after 1000 iterations: {correct / (double)test.Count:F4}   (tutorial: about 0.955)");

static class SpanExtensions
{
    public static int IndexOfMax(this Span<float> s) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(s);
}
