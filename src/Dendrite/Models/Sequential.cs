using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dendrite.Callbacks;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Losses;
using Dendrite.Optimizers;

namespace Dendrite.Models;

/// <summary>
/// Loss and accuracy of a model on some data. It reads as Keras's <c>score = model.evaluate(...)</c> does:
/// <c>var (loss, acc) = model.Evaluate(test);</c> or <c>score[0]</c> (loss) and <c>score[1]</c> (accuracy).
/// </summary>
public readonly record struct Evaluation(double Loss, double Accuracy) : IReadOnlyList<double>
{
    /// <summary>Keras's model.metrics_names: what <c>score[0]</c> and <c>score[1]</c> are.</summary>
    public static IReadOnlyList<string> Names { get; } = ["loss", "accuracy"];

    /// <summary>0: the loss; 1: the accuracy.</summary>
    public double this[int index] => index switch
    {
        0 => Loss,
        1 => Accuracy,
        _ => throw new IndexOutOfRangeException($"An evaluation holds 2 figures (0: loss, 1: accuracy); index {index} is outside them."),
    };

    public int Count => 2;

    public IEnumerator<double> GetEnumerator() { yield return Loss; yield return Accuracy; }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"loss: {Loss:F4} - accuracy: {Accuracy:F4}");
}

/// <summary>A class predicted for one input: its index, its name, and the model's probability for it.</summary>
public readonly record struct ClassPrediction(int Index, string Name, float Probability);

/// <summary>Raised when the training loss becomes NaN or infinite. <see cref="History"/> holds the run up to that point.</summary>
public sealed class TrainingDivergedException(string message, History history) : Exception(message)
{
    public History History { get; } = history;
}

/// <summary>
/// A stack of layers, as Keras's Sequential: Add layers, Compile with a loss and an optimizer, then
/// Fit, Evaluate and Predict. The layers build one graph of <see cref="Ops"/> (the same engine as the
/// low-level API), run with buffers that are reused from batch to batch.
/// </summary>
public sealed class Sequential : System.Collections.IEnumerable
{
    private readonly List<Layer> _layers = [];
    private Placeholder? _input, _target;
    private Node? _output, _lossNode, _metricInput;
    private Variable[] _trainable = [];
    private readonly Tensor _xBatch = new(0), _yBatch = new(0);
    private readonly TrainingSwitch _training = new();
    private int[] _xShape = [], _yShape = [];

    public Sequential(params Layer[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Seeds weight initialisation and, unless Fit is given its own, shuffling. Same seed and thread count: same weights.</summary>
    public ulong? Seed { get; set; }

    /// <summary>
    /// Names of the output classes, used by <see cref="PredictClasses"/>; 0..n-1 when unset. Fit takes them from a
    /// Dataset, or from label tensors that came from one (<see cref="Tensor.ClassNames"/>), when unset.
    /// </summary>
    public string[]? ClassNames { get; set; }

    /// <summary>
    /// The data set the model was trained on ("mnist", "fashion-mnist", a folder's name), set by the first Fit on a
    /// <see cref="Dataset"/> and kept in the model file, so that tools can warn when the model meets other data.
    /// </summary>
    public string? DatasetName { get; set; }

    public Loss? Loss { get; private set; }
    public Optimizer? Optimizer { get; private set; }

    /// <summary>Set (for example by a callback) to end <c>Fit</c> after the current batch.</summary>
    public bool StopTraining { get; set; }

    public bool IsBuilt => _layers.Count > 0 && _layers[^1].IsBuilt;

    /// <summary>Item shape the model takes (batch left out).</summary>
    public int[] InputShape => IsBuilt ? _layers[0].InputShape! : throw NotBuilt();

    /// <summary>Item shape the model produces (batch left out).</summary>
    public int[] OutputShape => IsBuilt ? _layers[^1].OutputShape : throw NotBuilt();

    public IReadOnlyList<Variable> Weights => _layers.SelectMany(l => l.Weights).ToArray();

    public int ParamCount => _layers.Sum(l => l.ParamCount);

    /// <summary>
    /// The graph's input placeholder and output node, for low-level use; built on first access. Its layers read
    /// <see cref="Training"/>: Fit turns it on for each step, Evaluate and Predict turn it off.
    /// </summary>
    public (Placeholder Input, Node Output) Graph
    {
        get { EnsureGraph(); return (_input!, _output!); }
    }

    /// <summary>The switch the model's graph reads to tell a training step from inference.</summary>
    public TrainingSwitch Training => _training;

    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (IsBuilt) throw new InvalidOperationException("Cannot add a layer to a model that is already built.");
        if (_layers.Any(l => l.Name == layer.Name))
            throw new ArgumentException($"All layers added to a Sequential model should have unique names. Name \"{layer.Name}\" is already the name of a layer in this model.", nameof(layer));
        _layers.Add(layer);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _layers.GetEnumerator();

    /// <summary>Builds every layer for items of <paramref name="inputShape"/> (batch left out), creating the weights.</summary>
    public void Build(params int[] inputShape)
    {
        if (_layers.Count == 0) throw new InvalidOperationException("The model has no layers. Add some before building it.");
        if (IsBuilt)
        {
            if (!InputShape.SequenceEqual(inputShape)) throw new ArgumentException($"The model was built for inputs of shape {Tensor.ShapeToString(InputShape)}; received {Tensor.ShapeToString(inputShape)}.");
            return;
        }
        MemoryBudget.Require(EstimateMemory(1, training: false, inputShape).Weights, "Building this model", "its weights");
        var rng = Seed is ulong s ? new Rng(s) : Rng.FromClock();
        var shape = inputShape;
        foreach (var l in _layers)
        {
            l.Build(shape, rng);
            shape = l.OutputShape;
        }
    }

    private void BuildFromFirstLayer()
    {
        if (IsBuilt) return;
        var shape = _layers.Count > 0 ? _layers[0].InputShape : null;
        if (shape is null) throw new InvalidOperationException("The model's input shape is unknown: give the first layer an inputShape, call Build(shape), or call Fit first.");
        Build(shape);
    }

    /// <summary>Chooses the loss, the optimizer (SGD with learning rate 0.01 unless given) and the metrics ("accuracy").</summary>
    public void Compile(Loss loss, Optimizer? optimizer = null, IEnumerable<string>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        foreach (var m in metrics ?? [])
            if (m is not ("accuracy" or "acc"))
                throw new ArgumentException($"Invalid value received for argument `metrics`. Expected \"accuracy\". Received: {m}.", nameof(metrics));
        Loss = loss;
        Optimizer = optimizer ?? new SGD();
        _lossNode = null;
        _target = null;
    }

    private void EnsureGraph()
    {
        BuildFromFirstLayer();
        if (_output is null)
        {
            _input = new Placeholder("input", [-1, .. InputShape]);
            Node h = _input;
            foreach (var l in _layers) h = l.Call(h, _training);
            _output = h;
            _trainable = Weights.Where(w => w.Trainable).ToArray();
        }
        if (Loss is not null && _lossNode is null)
        {
            _target = new Placeholder("target", Loss.TargetShape([-1, .. OutputShape]));
            (_lossNode, _metricInput) = Loss.Build(_output, _target);
            // Keras: the layers' weight penalties are part of the loss that is minimised and reported.
            foreach (var l in _layers)
                foreach (var (w, r) in l.Penalties) _lossNode = Ops.Add(_lossNode, Ops.Penalty(w, r));
        }
    }

    /// <summary>
    /// The memory the model needs, worked out from its layers' shapes before anything is allocated (see
    /// <see cref="MemoryEstimate"/>): for training in batches of <paramref name="batchSize"/> with the compiled
    /// optimizer, or for inference. <paramref name="inputShape"/> is needed only while the model is not built.
    /// </summary>
    public MemoryEstimate EstimateMemory(int batchSize, bool training = true, int[]? inputShape = null)
    {
        var shape = inputShape ?? (_layers.Count > 0 ? _layers[0].InputShape : null)
            ?? throw new InvalidOperationException("The model's input shape is unknown: give the first layer an inputShape, or pass inputShape.");
        return MemoryEstimate.For(_layers, shape, batchSize, training, Optimizer);
    }

    /// <summary>
    /// Throws <see cref="NotEnoughMemoryException"/>, with the estimate and what is available, when training in batches
    /// of <paramref name="batchSize"/> would not fit in memory: what is not allocated yet must fit (the weights too,
    /// while the model is not built). Fit checks this before its first step; a caller may check before building.
    /// </summary>
    public void CheckMemory(int batchSize, int[]? inputShape = null)
    {
        var need = EstimateMemory(batchSize, training: true, IsBuilt ? null : inputShape);
        MemoryBudget.Require(IsBuilt ? need.Total - need.Weights : need.Total, $"Training this model in batches of {batchSize:N0}", need.ToString());
    }

    private Exception NotBuilt() => new InvalidOperationException("The model is not built yet: its input shape is unknown.");

    /// <summary>Trains on tensors: x of shape (N, InputShape...), y one-hot (N, classes) or class indices (N,) for sparse losses.</summary>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1, float validationSplit = 0f,
        (Tensor X, Tensor Y)? validationData = null, bool shuffle = true, ulong? seed = null, IEnumerable<Callback>? callbacks = null,
        TrainingState? resumeFrom = null)
    {
        var source = DataSource.FromTensor(y, "y");
        ClassNames ??= y.ClassNames;
        return FitCore(DataSource.FromTensor(x, "x"), source, batchSize, epochs, verbose, validationSplit,
            validationData is var (vx, vy) ? (DataSource.FromTensor(vx, "validationData.X"), DataSource.FromTensor(vy, "validationData.Y")) : null,
            shuffle, seed, callbacks, resumeFrom);
    }

    /// <summary>Trains on a byte dataset, converting each batch as it is drawn; labels are one-hot encoded as the loss needs.</summary>
    public History Fit(Dataset train, int batchSize = 32, int epochs = 1, int verbose = 1, float validationSplit = 0f,
        Dataset? validationData = null, bool shuffle = true, ulong? seed = null, IEnumerable<Callback>? callbacks = null,
        TrainingState? resumeFrom = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        RequireCompiled();
        ClassNames ??= train.ClassNames;
        DatasetName ??= train.BaseName;
        return FitCore(new ImageSource(train), Labels(train), batchSize, epochs, verbose, validationSplit,
            validationData is null ? null : (new ImageSource(validationData), Labels(validationData)), shuffle, seed, callbacks, resumeFrom);
    }

    /// <summary>Where the last (or current) <c>Fit</c> stands; saved in checkpoints.</summary>
    public TrainingState? TrainingState { get; private set; }

    /// <summary>Saves the model, its optimizer's state and <see cref="TrainingState"/>, so that training can resume exactly. Atomic.</summary>
    public void SaveCheckpoint(string path)
    {
        if (TrainingState is null) throw new InvalidOperationException("There is no training run to checkpoint: call Fit first.");
        Serialization.ModelFile.Save(this, path, TrainingState.ToJson());
    }

    /// <summary>Loads a checkpoint written by <see cref="SaveCheckpoint"/>: the model with its optimizer's state, and where training stood.</summary>
    public static Sequential LoadCheckpoint(string path, out TrainingState state)
    {
        return LoadCheckpoint(path, out state, out _);
    }

    /// <summary>As <see cref="LoadCheckpoint(string, out TrainingState)"/>; <paramref name="note"/> is a line for the user about the file (no checksum), or null.</summary>
    public static Sequential LoadCheckpoint(string path, out TrainingState state, out string? note)
    {
        var model = Serialization.ModelFile.Load(path, out var training, out note);
        if (training is null) throw new InvalidDataFormatException($"{path}: a saved model, not a checkpoint (it has no training state).");
        state = Models.TrainingState.FromJson(training, path);
        model.TrainingState = state;
        return model;
    }

    private LabelSource Labels(Dataset d)
    {
        RequireCompiled();
        return new LabelSource(d, oneHot: !Loss!.SparseTargets);
    }

    private void RequireCompiled()
    {
        if (Loss is null || Optimizer is null) throw new InvalidOperationException("The model must be compiled before training or evaluation: call Compile(loss, optimizer).");
    }

    private History FitCore(DataSource x, DataSource y, int batchSize, int epochs, int verbose, float validationSplit,
        (DataSource X, DataSource Y)? validation, bool shuffle, ulong? seed, IEnumerable<Callback>? callbacks, TrainingState? resume)
    {
        RequireCompiled();
        if (resume is not null)
        {
            // A resumed run takes its settings from the checkpoint: anything else would not repeat the original run.
            batchSize = resume.BatchSize; epochs = resume.Epochs; shuffle = resume.Shuffle; validationSplit = resume.ValidationSplit; seed = resume.Seed;
            if (validationSplit > 0 && validation is not null)
                throw new ArgumentException($"{resume.Source}: this run validates on the last {validationSplit * 100:0.##}% of its training data (validation_split); resume it without validationData.");
        }
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Invalid value received for argument `batch_size`. Expected a positive integer. Received: batch_size={batchSize}.");
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"Invalid value received for argument `epochs`. Expected a non-negative integer. Received: epochs={epochs}.");
        if (!(validationSplit >= 0 && validationSplit < 1)) throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, $"Invalid value received for argument `validation_split`. Expected a number in [0, 1). Received: validation_split={validationSplit}.");
        if (validationSplit > 0 && validation is not null) throw new ArgumentException("Give validationData or validationSplit, not both.");
        if (x.Count != y.Count) throw new ArgumentException($"x has {x.Count} samples but y has {y.Count}: they must match.");
        int n = x.Count;
        int nVal = (int)(n * validationSplit);            // Keras: the last fraction, taken before shuffling
        int nTrain = n - nVal;
        if (nTrain == 0) throw new ArgumentException("No training samples left after the validation split.");
        // A batch larger than the data is the whole data as one batch (as Keras); TrainingInfo.BatchSize tells callers.
        batchSize = Math.Min(batchSize, nTrain);
        if (!IsBuilt || _lossNode is null) CheckMemory(batchSize, x.ItemShape);
        if (!IsBuilt) Build(x.ItemShape);
        CheckInput(x, "x");
        EnsureGraph();
        CheckTargets(y, "y");
        if (resume is not null) resume.CheckAgainst(nTrain);
        var trainIdx = Enumerable.Range(0, nTrain).ToArray();
        (DataSource X, DataSource Y, int[] Idx)? val = nVal > 0 ? (x, y, Enumerable.Range(nTrain, nVal).ToArray())
            : validation is var (vx, vy) ? (vx, vy, Enumerable.Range(0, vx.Count).ToArray()) : null;
        if (val is var (cvx, cvy, _)) { CheckInput(cvx, "validation x"); CheckTargets(cvy, "validation y"); if (cvx.Count != cvy.Count) throw new ArgumentException($"Validation x has {cvx.Count} samples but y has {cvy.Count}."); }

        int steps = (int)(((long)nTrain + batchSize - 1) / batchSize);
        if (resume is not null && resume.History.StepsPerEpoch != 0 && resume.History.StepsPerEpoch != steps)
            throw new ArgumentException($"{resume.Source}: the checkpoint was taken with {resume.History.StepsPerEpoch} steps per epoch; this data gives {steps}. Resume on the same data.");
        ulong runSeed = seed ?? (Seed is ulong ms ? ms ^ 0x5DEECE66DUL : Rng.FromClock().NextUInt64());
        var rng = new Rng(runSeed);
        var state = resume ?? new TrainingState { Seed = runSeed, BatchSize = batchSize, Epochs = epochs, Shuffle = shuffle, ValidationSplit = validationSplit };
        state.TrainSamples = nTrain;
        TrainingState = state;
        var history = state.History;
        history.StepsPerEpoch = steps;
        if (shuffle) for (int e = 0; e < state.EpochsDone; e++) rng.Shuffle(trainIdx);   // replay the shuffles of the epochs already done

        var all = new List<Callback>();
        if (verbose > 0) all.Add(new ConsoleProgress());
        if (callbacks is not null) all.AddRange(callbacks);
        var info = new TrainingInfo(epochs, steps, nTrain, batchSize, val?.Idx.Length ?? 0);
        foreach (var c in all) c.OnTrainBegin(this, info);
        StopTraining = false;
        var clock = new Stopwatch();
        for (int epoch = state.EpochsDone + 1; epoch <= epochs && !StopTraining; epoch++)
        {
            foreach (var c in all) c.OnEpochBegin(epoch);
            history.GrowForEpoch(steps);                    // the history grows as the run goes, an epoch at a time
            if (shuffle) rng.Shuffle(trainIdx);
            int firstStep = state.StepsDone;
            clock.Restart();
            for (int step = state.StepsDone; step < steps && !StopTraining; step++)
            {
                int start = step * batchSize;               // < nTrain: no overflow
                var idx = trainIdx.AsSpan(start, Math.Min(batchSize, nTrain - start));
                Feed(x, y, idx);
                _training.On = true;
                _training.Step = (long)(epoch - 1) * steps + step;
                try { Optimizer!.Minimize(_lossNode!); }
                finally { _training.On = false; }
                double loss = _lossNode!.Value.Span[0];
                if (!double.IsFinite(loss) && all.OfType<TerminateOnNaN>().FirstOrDefault() is { } terminate)
                {
                    terminate.Stop(epoch, step + 1, loss);   // Keras's TerminateOnNaN: stop, and return the history so far
                    StopTraining = true;
                    break;
                }
                if (!double.IsFinite(loss))
                    throw new TrainingDivergedException($"The loss became {loss} at epoch {epoch}, batch {step + 1}: training diverged. Try a smaller learning rate (now {Optimizer.LearningRate}) or inputs scaled to [0, 1].", history);
                var (correct, total) = CountCorrect(_metricInput!.Value, _target!.Value);
                state.LossSum += loss * idx.Length; state.Seen += idx.Length;
                state.CorrectSum += correct; state.Counted += total;
                state.StepsDone = step + 1;
                double acc = total == 0 ? 0 : (double)correct / total;
                history.BatchLoss.Add(loss);
                history.BatchAccuracy.Add(acc);
                var logs = new BatchLogs(step + 1, steps, loss, acc, state.LossSum / state.Seen, state.CorrectSum / state.Counted);
                foreach (var c in all) c.OnBatchEnd(epoch, logs);
            }
            if (state.StepsDone < steps) break;           // stopped mid-epoch: the checkpoint resumes from here
            double seconds = clock.Elapsed.TotalSeconds;
            var ev = val is var (evx, evy, eidx) ? EvaluateCore(evx, evy, eidx, 1024) : new Evaluation(double.NaN, double.NaN);
            history.Loss.Add(state.LossSum / Math.Max(1, state.Seen));
            history.Accuracy.Add(state.Counted == 0 ? 0 : state.CorrectSum / state.Counted);
            if (val is not null) { history.ValLoss.Add(ev.Loss); history.ValAccuracy.Add(ev.Accuracy); }
            history.EpochSeconds.Add(seconds);
            history.LearningRate.Add(Optimizer!.LearningRate);
            state.EpochsDone = epoch; state.StepsDone = 0;
            state.LossSum = state.CorrectSum = 0; state.Seen = state.Counted = 0;
            var elogs = new EpochLogs(epoch, history.Loss[^1], history.Accuracy[^1], ev.Loss, ev.Accuracy, seconds) { StepsRun = steps - firstStep, FirstStep = firstStep };
            foreach (var c in all) c.OnEpochEnd(elogs);
        }
        foreach (var c in all) c.OnTrainEnd(history);
        return history;
    }

    private void CheckInput(DataSource x, string what)
    {
        if (!x.ItemShape.SequenceEqual(InputShape))
            throw new ArgumentException($"`{what}` has items of shape {Tensor.ShapeToString(x.ItemShape)}, but the model takes {Tensor.ShapeToString(InputShape)}.");
    }

    private void CheckTargets(DataSource y, string what)
    {
        int[] expected = Loss!.SparseTargets ? [] : OutputShape;
        if (!y.ItemShape.SequenceEqual(expected))
            throw new ArgumentException(Loss.SparseTargets
                ? $"`{what}` must hold class indices of shape (N,) for {Loss.Name}; its items have shape {Tensor.ShapeToString(y.ItemShape)}."
                : $"`{what}` has items of shape {Tensor.ShapeToString(y.ItemShape)}, but the model outputs {Tensor.ShapeToString(OutputShape)}{(OutputShape.Length == 1 && y.ItemShape.Length == 0 ? $": one-hot encode the labels (Datasets.ToCategorical(y, {OutputShape[0]})) or use sparse_categorical_crossentropy" : "")}.");
    }

    /// <summary>Sizes the input batch buffer for <paramref name="rows"/> items (reusing its storage), feeds it to the input placeholder, and returns it to be filled.</summary>
    private Span<float> InputBatch(int rows)
    {
        if (_xShape.Length != InputShape.Length + 1) _xShape = [0, .. InputShape];
        _xShape[0] = rows;
        _xBatch.Resize(_xShape);
        _input!.Feed(_xBatch);
        return _xBatch.Span;
    }

    /// <summary>Gathers rows <paramref name="idx"/> into the batch buffers and feeds the placeholders.</summary>
    private void Feed(DataSource x, DataSource? y, ReadOnlySpan<int> idx)
    {
        x.Gather(idx, InputBatch(idx.Length));
        if (y is null) return;
        // Keyed on the whole item shape, not its rank: targets of 9 classes after 10 must not reuse the 10-wide shape.
        if (_yShape.Length == 0 || !_yShape.AsSpan(1).SequenceEqual(y.ItemShape)) _yShape = [0, .. y.ItemShape];
        _yShape[0] = idx.Length;
        _yBatch.Resize(_yShape);
        y.Gather(idx, _yBatch.Span);
        _target!.Feed(_yBatch);
    }

    /// <summary>Correct predictions and the number judged: argmax agreement for several outputs, a 0.5 threshold for one.</summary>
    private (int correct, int total) CountCorrect(Tensor scores, Tensor targets)
    {
        int rows = scores.Dim(0), cols = scores.Length / Math.Max(1, rows);
        var s = scores.Span; var t = targets.Span;
        int correct = 0;
        if (cols == 1 && !Loss!.SparseTargets)
        {
            float threshold = _metricInput == _output ? 0.5f : 0f;
            for (int i = 0; i < rows; i++) if (s[i] > threshold == t[i] > 0.5f) correct++;
            return (correct, rows);
        }
        bool sparse = Loss!.SparseTargets;
        for (int r = 0; r < rows; r++)
        {
            int predicted = Kernels.ArgMax(s.Slice(r * cols, cols));
            int actual = sparse ? (int)t[r] : Kernels.ArgMax(t.Slice(r * cols, cols));
            if (predicted == actual) correct++;
        }
        return (correct, rows);
    }

    /// <summary>Loss and accuracy on tensors (same forms as for <c>Fit</c>).</summary>
    public Evaluation Evaluate(Tensor x, Tensor y, int batchSize = 1024)
    {
        RequireCompiled();
        EnsureGraph();
        var xs = DataSource.FromTensor(x, "x"); var ys = DataSource.FromTensor(y, "y");
        CheckInput(xs, "x"); CheckTargets(ys, "y");
        if (xs.Count != ys.Count) throw new ArgumentException($"x has {xs.Count} samples but y has {ys.Count}: they must match.");
        return EvaluateCore(xs, ys, Enumerable.Range(0, xs.Count).ToArray(), batchSize);
    }

    /// <summary>Loss and accuracy on a byte dataset.</summary>
    public Evaluation Evaluate(Dataset data, int batchSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(data);
        RequireCompiled();
        EnsureGraph();
        var xs = new ImageSource(data);
        CheckInput(xs, data.Name);
        var ys = Labels(data);
        CheckTargets(ys, $"{data.Name} labels");
        return EvaluateCore(xs, ys, Enumerable.Range(0, data.Count).ToArray(), batchSize);
    }

    private Evaluation EvaluateCore(DataSource x, DataSource y, int[] indices, int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Expected a positive batch size.");
        double loss = 0; long correct = 0, total = 0;
        for (int start = 0; start < indices.Length; start += batchSize)
        {
            var idx = indices.AsSpan(start, Math.Min(batchSize, indices.Length - start));
            Feed(x, y, idx);
            _lossNode!.Evaluate();
            loss += _lossNode.Value.Span[0] * (double)idx.Length;
            var (c, t) = CountCorrect(_metricInput!.Value, _target!.Value);
            correct += c; total += t;
        }
        return new Evaluation(loss / Math.Max(1, indices.Length), total == 0 ? 0 : (double)correct / total);
    }

    /// <summary>
    /// The model's outputs (class probabilities for a softmax output) for inputs of shape (N, InputShape...), shape
    /// (N, OutputShape...); or, for one item given without the batch dimension (shape InputShape, such as
    /// <c>xTest[0]</c>), its outputs, shape OutputShape.
    /// </summary>
    public Tensor Predict(Tensor x, int batchSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(x);
        return IsOneItem(x) ? PredictCore(DataSource.FromTensor(x.Reshape([1, .. x.Shape]), "x"), batchSize)[0]
            : PredictCore(DataSource.FromTensor(x, "x"), batchSize);
    }

    /// <summary>True when <paramref name="x"/> has the shape of one input item, batch dimension left out.</summary>
    private bool IsOneItem(Tensor x) =>
        (IsBuilt ? InputShape : _layers.Count > 0 ? _layers[0].InputShape : null) is { } shape && x.ShapeSpan.SequenceEqual(shape);

    /// <summary>The model's outputs for every image of a dataset.</summary>
    public Tensor Predict(Dataset data, int batchSize = 1024) => PredictCore(new ImageSource(data), batchSize);

    private Tensor PredictCore(DataSource x, int batchSize)
    {
        if (!IsBuilt) Build(x.ItemShape);
        CheckInput(x, "x");
        EnsureGraph();
        int n = x.Count, width = Tensor.ProductOf(OutputShape);
        var result = new Tensor([n, .. OutputShape]);
        var all = Enumerable.Range(0, n).ToArray();
        for (int start = 0; start < n; start += batchSize)
        {
            var idx = all.AsSpan(start, Math.Min(batchSize, n - start));
            Feed(x, null, idx);
            _output!.Evaluate().Span.CopyTo(result.Span.Slice(start * width, idx.Length * width));
        }
        return result;
    }

    /// <summary>
    /// The outputs for one item (its values in row-major order) into <paramref name="output"/>, without
    /// allocating: the path for serving one prediction at a time.
    /// </summary>
    public void Predict(ReadOnlySpan<float> item, Span<float> output)
    {
        BuildFromFirstLayer();
        EnsureGraph();
        int size = Tensor.ProductOf(InputShape), width = Tensor.ProductOf(OutputShape);
        if (item.Length != size) throw new ArgumentException($"The model takes items of {size} values (shape {Tensor.ShapeToString(InputShape)}); received {item.Length}.", nameof(item));
        if (output.Length < width) throw new ArgumentException($"The output span holds {output.Length} values; the model produces {width}.", nameof(output));
        item.CopyTo(InputBatch(1));
        _output!.Evaluate().Span.CopyTo(output);
    }

    /// <summary>For each input, the most probable class with its name (from <see cref="ClassNames"/>) and probability; for one item (no batch dimension), an array of one.</summary>
    public ClassPrediction[] PredictClasses(Tensor x, int batchSize = 1024)
    {
        var p = Predict(x, batchSize);
        return TopClasses(IsOneItem(x) ? p.Reshape([1, .. p.Shape]) : p);
    }

    /// <summary>The most probable class of each row of <paramref name="probabilities"/>.</summary>
    public ClassPrediction[] TopClasses(Tensor probabilities)
    {
        int rows = probabilities.Dim(0), cols = probabilities.Length / Math.Max(1, rows);
        var result = new ClassPrediction[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = probabilities.Span.Slice(r * cols, cols);
            int k = Kernels.ArgMax(row);
            result[r] = new ClassPrediction(k, ClassName(k), row[k]);
        }
        return result;
    }

    public string ClassName(int index) => ClassNames is { } names && index < names.Length ? names[index] : index.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Saves the architecture, compile settings, class names and weights to one file (safetensors with the
    /// config in its metadata; see <see cref="Serialization.ModelFile"/>). The write is atomic: a crash leaves any previous file intact.
    /// </summary>
    public void Save(string path) => Serialization.ModelFile.Save(this, path);

    /// <summary>
    /// Loads a model saved by <see cref="Save"/> (or a checkpoint; predictions match the saved model's bit for bit), or an
    /// ONNX model, telling the formats apart by content (see <see cref="Serialization.Import.ModelImport"/>).
    /// </summary>
    public static Sequential Load(string path) => Serialization.Import.ModelImport.Load(path);

    /// <summary>
    /// Every weight of every layer, in order (each layer's kernel, then bias), as copies (Keras's model.get_weights()).
    /// </summary>
    public Tensor[] GetWeights() => _layers.SelectMany(l => l.GetWeights()).ToArray();

    /// <summary>
    /// Sets every weight of every layer from copies of <paramref name="weights"/>, in the order <see cref="GetWeights"/>
    /// gives (Keras's model.set_weights()). Builds the model first if its input shape is known.
    /// </summary>
    public void SetWeights(params Tensor[] weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        BuildFromFirstLayer();
        int expected = _layers.Sum(l => l.Weights.Count);
        if (weights.Length != expected)
            throw new ArgumentException($"You called SetWeights on a model with {expected} weights ({string.Join(", ", Weights.Select(w => w.Name))}) with a list of {weights.Length}.");
        int at = 0;
        foreach (var l in _layers)
        {
            int n = l.Weights.Count;
            l.SetWeights(weights[at..(at + n)]);
            at += n;
        }
    }

    /// <summary>Prints Keras's model.summary() table to the console (or <paramref name="output"/>); <see cref="SummaryText"/> returns it as a string.</summary>
    public void Summary(TextWriter? output = null) => (output ?? Console.Out).Write(SummaryText());

    /// <summary>Keras's model.summary() table: each layer, its output shape and parameter count, then the totals.</summary>
    public string SummaryText()
    {
        BuildFromFirstLayer();
        var rows = _layers.Select(l => (name: $"{l.Name} ({l.GetType().Name})", shape: Tensor.ShapeToString([-1, .. l.OutputShape]), pars: l.ParamCount.ToString("N0", CultureInfo.InvariantCulture))).ToList();
        int w1 = Math.Max(28, rows.Max(r => r.name.Length) + 2), w2 = Math.Max(22, rows.Max(r => r.shape.Length) + 2), w3 = 12;
        int width = w1 + w2 + w3;
        var sb = new StringBuilder();
        sb.AppendLine("Model: \"sequential\"");
        sb.AppendLine(new string('━', width));
        sb.Append("Layer (type)".PadRight(w1)).Append("Output Shape".PadRight(w2)).AppendLine("Param #".PadLeft(w3));
        sb.AppendLine(new string('━', width));
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append(rows[i].name.PadRight(w1)).Append(rows[i].shape.PadRight(w2)).AppendLine(rows[i].pars.PadLeft(w3));
            sb.AppendLine(i == rows.Count - 1 ? new string('━', width) : new string('─', width));
        }
        int trainable = _layers.SelectMany(l => l.Weights).Where(w => w.Trainable).Sum(w => w.Value.Length);
        sb.AppendLine(CultureInfo.InvariantCulture, $" Total params: {ParamCount:N0} ({ParamCount * 4L / 1024.0:F2} KB)");
        sb.AppendLine(CultureInfo.InvariantCulture, $" Trainable params: {trainable:N0}");
        sb.AppendLine(CultureInfo.InvariantCulture, $" Non-trainable params: {ParamCount - trainable:N0}");
        return sb.ToString();
    }
}
