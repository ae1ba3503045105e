import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertOnnxToFp16, type Fp16Stats } from '../engine/inference/onnx-fp16.js';

/**
 * A models folder holding `id` with an fp16 variant: where `<models>/<id>/onnx/model_fp16.onnx`
 * exists it is `models` itself; otherwise an overlay in the temp folder whose `<id>` links every
 * file of the original and adds `onnx/model_fp16.onnx` made from `onnx/model.onnx` by
 * convertOnnxToFp16 (kept between runs, keyed by the fp32 file's size and mtime). `made` is set
 * when the file was converted (not published); `stats` when it was converted by this call.
 */
export function modelsWithFp16(models: string, id: string): { models: string; made: boolean; stats?: Fp16Stats } {
  const src = path.join(models, id);
  if (fs.existsSync(path.join(src, 'onnx', 'model_fp16.onnx'))) return { models, made: false };
  const fp32 = path.join(src, 'onnx', 'model.onnx');
  const st = fs.statSync(fp32);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const root = path.join(os.tmpdir(), `tandem-fp16-models-${uid}`, `${st.size}-${Math.round(st.mtimeMs)}`);
  const dir = path.join(root, id);
  const fp16 = path.join(dir, 'onnx', 'model_fp16.onnx');
  let stats: Fp16Stats | undefined;
  if (!fs.existsSync(fp16)) {
    const link = (rel: string): void => {
      const from = path.join(src, rel);
      const to = path.join(dir, rel);
      if (fs.statSync(from).isDirectory()) {
        fs.mkdirSync(to, { recursive: true });
        for (const e of fs.readdirSync(from)) link(path.join(rel, e));
      } else {
        try {
          fs.symlinkSync(from, to);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
    };
    link('.');
    stats = convertOnnxToFp16(fp32, fp16);
  }
  return { models: root, made: true, ...(stats ? { stats } : {}) };
}
