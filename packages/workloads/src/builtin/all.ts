import { embed } from '../embed/index.js'
import { ocrRec } from '../ocr-rec/index.js'
import { onnx } from '../onnx/index.js'
import { echo } from './echo.js'
import { sleep } from './sleep.js'
import type { EmbedInit } from '../embed/index.js'
import type { OcrRecInit } from '../ocr-rec/index.js'
import type { Workload } from '../workload.js'
import type { SleepInit } from './sleep.js'

export interface BuiltinWorkloadsInit {
  ocrRec?: OcrRecInit
  embed?: EmbedInit
  sleep?: SleepInit
}

/** Every built-in workload: `ocr-rec`, `embed`, `onnx`, `echo` and `sleep`. */
export function builtinWorkloads (init: BuiltinWorkloadsInit = {}): Array<Workload<any, any>> {
  return [ocrRec(init.ocrRec), embed(init.embed), onnx(), echo(), sleep(init.sleep)]
}
