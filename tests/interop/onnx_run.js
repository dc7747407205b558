// Runs an ONNX model on float32 inputs with onnxruntime-node and writes the outputs.
// usage: node onnx_run.js MODEL.onnx INPUT.f32 ROWS D1[,D2...] OUTPUT.f32
// INPUT.f32 / OUTPUT.f32: raw little-endian float32, row-major.
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, rows, dims, output] = process.argv.slice(2);
  const shape = [Number(rows), ...dims.split(',').map(Number)];
  const buf = fs.readFileSync(input);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const result = await session.run({ input: new ort.Tensor('float32', data, shape) });
  const out = result.output.data;
  fs.writeFileSync(output, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  console.log(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames, shape: result.output.dims }));
}
main().catch(e => { console.error(e.message || e); process.exit(1); });
