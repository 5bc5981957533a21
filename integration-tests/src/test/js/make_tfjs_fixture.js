// Makes the checked-in TensorFlow.js layers-model fixture with real TensorFlow.js (pure JS, CPU).
//
//   npm install --prefix /tmp/tfjs @tensorflow/tfjs@4.22.0
//   NODE_PATH=/tmp/tfjs/node_modules node integration-tests/src/test/js/make_tfjs_fixture.js \
//       integration-tests/src/test/resources/tfjs
//
// Writes OUTDIR/tfjs_cnn/model.json + weights.bin (what tf.LayersModel.save writes: modelTopology,
// format "layers-model", weightsManifest) and OUTDIR/tfjs_cnn.json with inputs and the outputs of
// model.predict, in the format of make_keras_fixtures.py.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

function seededNormal(seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

async function main() {
  const outdir = path.resolve(process.argv[2]);
  await tf.setBackend('cpu');
  const normal = seededNormal(7);
  const model = tf.sequential({name: 'tfjs_cnn'});
  model.add(tf.layers.conv2d({inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv'}));
  model.add(tf.layers.batchNormalization({name: 'bn'}));
  model.add(tf.layers.depthwiseConv2d({kernelSize: 3, padding: 'valid', name: 'dw'}));
  model.add(tf.layers.maxPooling2d({poolSize: 2, name: 'pool'}));
  model.add(tf.layers.flatten({name: 'flat'}));
  model.add(tf.layers.dense({units: 6, activation: 'tanh', name: 'fc1'}));
  model.add(tf.layers.dense({units: 3, name: 'fc2'}));
  // random weights (and BatchNorm statistics) from the seeded generator, not the initialisers
  model.setWeights(model.getWeights().map((w) => {
    const values = Float32Array.from({length: w.size}, () => normal() * 0.5);
    if (w.name.includes('moving_variance') || w.name.includes('gamma')) {
      values.forEach((v, i) => { values[i] = 0.5 + Math.abs(v); });
    }
    return tf.tensor(values, w.shape);
  }));
  const xs = Float32Array.from({length: 2 * 8 * 8 * 3}, () => normal() * 2);
  const x = tf.tensor(xs, [2, 8, 8, 3]);
  const y = model.predict(x);
  const dir = path.join(outdir, 'tfjs_cnn');
  fs.mkdirSync(dir, {recursive: true});
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs}],
    }));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  const inputName = model.inputs[0].name.replace(/:0$/, '');
  const record = {
    inputs: {[inputName]: {shape: [2, 8, 8, 3], dtype: 'float32', data: Array.from(xs)}},
    outputs: {output_0: {shape: y.shape, dtype: 'float32', data: Array.from(y.dataSync())}},
  };
  fs.writeFileSync(path.join(outdir, 'tfjs_cnn.json'), JSON.stringify(record));
  console.log('tfjs_cnn: input', inputName, 'tfjs', tf.version.tfjs);
}

main();
