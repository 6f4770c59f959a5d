// Decode (T = 1) as matvec.wgsl computes it, out[0, row0 + o] = dot(inp[0, :], w[o, :]) + bias,
// for adapters with the `subgroups` feature: each row is summed by one subgroup with subgroupAdd,
// so a row costs no workgroup-memory tree and no barrier (matvec.wgsl: 6 barriers a workgroup).
// WebGPU promises neither the subgroup size (a power of two, 4 to 128) nor which invocations form
// a subgroup, so rows are not tied to invocation ids: the subgroups of a workgroup take its ROWS
// rows one at a time from a workgroup counter (an atomic, read by the subgroup's first invocation
// and broadcast), and each strides through its row subgroup_size lanes at a time. Any size, any
// grouping, partial subgroups included: every row is taken by exactly one subgroup.
// GATED 1 as in matvec.wgsl: a task is one output o, the gate row o and the up row F + o summed
// side by side, writing silu(gate) * up. Prepended with weight-load.wgsl (or a quantized reader);
// `enable subgroups` comes from the kernel table (directives must lead the module).

override ROWS: u32; // rows per workgroup (GATED: ROWS / 2 outputs), from the KERNELS table
override WG: u32; // invocations per workgroup
override GATED: u32 = 0u;

struct Params {
  I4: u32, // input width / 4
  rows: u32, // rows of this weight part
  row0: u32, // its first row = first output column written
  has_bias: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>; // (1, O)
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>; // (1, I / 4)
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>; // (rows, I) of DTYPE
@group(0) @binding(3) var<storage, read> bias: array<f32>; // (O), unread unless has_bias
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> next_task: atomic<u32>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) lanes: u32,
) {
  // Set explicitly, then a barrier: SwiftShader's implicit zero-initialisation of workgroup
  // memory is not seen by every subgroup (measured: each restarted the count at 0).
  if (lid == 0u) {
    atomicStore(&next_task, 0u);
  }
  workgroupBarrier();
  let g = wid.y * nwg.x + wid.x; // folded into two dimensions past 65535 workgroups
  let outputs = select(p.rows, p.rows / 2u, GATED == 1u);
  let tasks = select(ROWS, ROWS / 2u, GATED == 1u); // as matvec.wgsl: a dispatch counts weight rows
  loop {
    var task = 0u;
    if (subgroupElect()) {
      task = atomicAdd(&next_task, 1u);
    }
    task = subgroupBroadcastFirst(task); // the elected invocation is the first active one
    let o = g * tasks + task;
    if (task >= tasks || o >= outputs) {
      break;
    }
    if (GATED == 1u) {
      let up = outputs + o;
      var acc_gate = 0.0;
      var acc_up = 0.0;
      for (var k = lane; k < p.I4; k += lanes) {
        let x = inp[k];
        acc_gate += dot(x, weight4(o * p.I4 + k));
        acc_up += dot(x, weight4(up * p.I4 + k));
      }
      let gate = subgroupAdd(acc_gate);
      let sum_up = subgroupAdd(acc_up);
      if (subgroupElect()) {
        // exp(-gate) overflows to inf for gate < -88 and the quotient is then -0: the right limit.
        out[o] = gate / (1.0 + exp(-gate)) * sum_up;
      }
    } else {
      var acc = 0.0;
      for (var k = lane; k < p.I4; k += lanes) {
        acc += dot(inp[k], weight4(o * p.I4 + k));
      }
      var sum = subgroupAdd(acc);
      if (subgroupElect()) {
        if (p.has_bias != 0u) {
          sum += bias[p.row0 + o];
        }
        out[p.row0 + o] = sum;
      }
    }
  }
}
