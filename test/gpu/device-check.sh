#!/usr/bin/env bash
# Every GPU figure the README asks for, in one run on a machine with a GPU (no Node needed there):
#   here, from the project root:  ../shared/gpu/make-bundle.sh
#   on the GPU machine (device run, carry [".gpu"]):  bash test/gpu/device-check.sh
# Writes the log (and a styled picture) to $OUT, or ./gpu-check when OUT is unset.
set -uo pipefail
out=${OUT:-gpu-check}; mkdir -p "$out"
# shellcheck disable=SC1091
source .gpu/env.sh
# Each command has a ceiling (seconds; together under the device's 10-minute call) so that one that
# hangs or runs far slower than expected cannot take the figures of the others with it.
within() { local s=$1; shift; timeout -k 5 "$s" "$@" || echo "(exit $?: stopped or failed; ceiling $s s) $*"; }
{
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
  within 20 $STYLIZE devices
  # ms per step at each size on our WebGPU engine, the default and High jobs, PyTorch (CUDA) beside it;
  # --check: the GPU's loss and gradient against the CPU's (both poolings, up to 1024 px). 128 px:
  # most of a default job's evaluations are at its coarse scales, where launch gaps and deep layers
  # too small to fill the GPU may matter more than the multiply-adds (the profile's "busy" line)
  within 200 $STYLIZE bench style --device webgpu --sizes 128,256,512,1024,2048 --steps 5 --job --pytorch --profile --check
  # every convolution direct, then by Winograd, whatever the trial chose (its own times are in the
  # "webgpu:" line above); --check on Winograd's: its gradient against the CPU's on this GPU
  within 60 $STYLIZE bench style --device webgpu --sizes 512,1024,2048 --steps 5 --convolutions direct
  within 80 $STYLIZE bench style --device webgpu --sizes 512,1024,2048 --steps 5 --convolutions winograd --check
  # the CPU path keeps its speed
  within 40 $STYLIZE bench style --device cpu --sizes 256,512 --steps 3
  # the same quality figures on WebGPU and the CPU (random weights: the real ones do not travel)
  for d in webgpu cpu; do
    within 50 $STYLIZE bench quality --weights random --device $d --content "$FX/tubingen.jpg" --style "$FX/starry_night.jpg" \
      --sizes 512 --out "$out/quality-$d.png"
  done
  within 40 $STYLIZE style "$FX/tubingen.jpg" "$FX/starry_night.jpg" -o "$out/tubingen-webgpu.png" --device webgpu --weights random
} 2>&1 | tee "$out/gpu-check.log"
