// The same optimisation step in PyTorch (autograd; CUDA when torch sees a GPU, else the CPU), for
// `stylize bench style --pytorch`:
// VGG-19 to conv5_1 with random weights, content + 5 Gram style layers + TV, loss.backward() to
// the image. Run with the system's python3; skipped with a note when torch is not installed.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

const SCRIPT = String.raw`
import sys, time, json, torch, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1])); sizes=[int(s) for s in sys.argv[2].split(',')]; steps=int(sys.argv[3])
dev=torch.device('cuda' if torch.cuda.is_available() else 'cpu'); sync=torch.cuda.synchronize if dev.type=='cuda' else (lambda: None)
cfg=[(3,64),(64,64),'P',(64,128),(128,128),'P',(128,256),(256,256),(256,256),(256,256),'P',(256,512),(512,512),(512,512),(512,512),'P',(512,512)]
g=torch.Generator().manual_seed(0)
W=[None if c=='P' else ((torch.randn(c[1],c[0],3,3,generator=g)*(2/(9*c[0]))**0.5).to(dev), torch.zeros(c[1],device=dev)) for c in cfg]
STYLE={0,2,4,8,12}; CONTENT=9
def feats(x):
  out={}; h=x; k=0
  for i,c in enumerate(cfg):
    if c=='P': h=F.max_pool2d(h,2)
    else:
      h=F.relu(F.conv2d(h,W[i][0],W[i][1],padding=1)); out[k]=h; k+=1
  return out
def gram(f):
  _,c,hh,ww=f.shape; m=f.reshape(c,hh*ww); return m@m.t()/(c*hh*ww)
for s in sizes:
  with torch.no_grad():
    t=feats(torch.randn(1,3,s,s,device=dev)*60); P=t[CONTENT]; A={k:gram(t[k]) for k in STYLE}
  x=(torch.randn(1,3,s,s,device=dev)*60).requires_grad_()
  def step():
    f=feats(x); loss=5*F.mse_loss(f[CONTENT],P)+sum(100*F.mse_loss(gram(f[k]),A[k]) for k in STYLE)
    loss=loss+1e-3*0.5*((x[:,:,1:]-x[:,:,:-1]).pow(2).sum()+(x[:,:,:,1:]-x[:,:,:,:-1]).pow(2).sum())
    x.grad=None; loss.backward(); x.grad.cpu()
  step(); sync(); ts=[]; c0=time.process_time()
  for _ in range(steps):
    a=time.perf_counter(); step(); sync(); ts.append((time.perf_counter()-a)*1000)
  cpu=(time.process_time()-c0)*1000/steps
  ts.sort(); print(json.dumps({"size":s,"msPerStep":round(ts[len(ts)//2],1),"cpuMsPerStep":round(cpu),"torch":torch.__version__,"device":dev.type}), flush=True)
`;

export interface TorchTiming {
  size: number;
  msPerStep: number;
  cpuMsPerStep: number;
  torch: string;
  /** "cuda" or "cpu". */
  device: string;
}

/** Median ms per step per size, or a reason it could not run. */
export async function benchTorch(
  sizes: number[],
  steps: number,
  threads: number,
  python = "python3",
): Promise<TorchTiming[] | { skipped: string }> {
  try {
    const { stdout } = await exec(python, ["-c", SCRIPT, String(threads), sizes.join(","), String(steps)], {
      timeout: 20 * 60_000,
    });
    return stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as TorchTiming);
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr || (err as Error).message;
    return {
      skipped: /No module named 'torch'/.test(msg)
        ? `PyTorch is not installed for ${python} (see --python)`
        : msg.split("\n")[0],
    };
  }
}
