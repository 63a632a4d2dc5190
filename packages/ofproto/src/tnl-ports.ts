/**
 * lib/tnl-ports.c: the UDP and GRE ports on which native tunneling (the
 * userspace datapath's tnl_push/tnl_pop) listens, and `ovs-appctl
 * tnl/ports/show [-v]`. A port goes in only when the backer supports tunnel
 * push/pop (ovs_native_tunneling_is_on()); the kernel datapath does not (its
 * tunnels are the module's vports), so with it the list stays empty and the
 * command prints only its heading, as real OVS does on Linux.
 */

/** struct tnl_port: one listening port, shared by the tunnels that use it. */
interface TnlPort {
  devName: string;
  /** The UDP destination port (0 for GRE). */
  port: number;
  type: string;
  refCnt: number;
}

export class TnlPorts {
  /** port_list, in insertion order (LIST_FOR_EACH of ovs_list_insert()ed nodes: newest first). */
  private readonly list: TnlPort[] = [];

  /** tnl_port_map_insert(): a tunnel of `type` listens on `port` of `devName`. */
  insert(devName: string, port: number, type: string): void {
    const p = this.list.find((x) => x.port === port && x.type === type);
    if (p) p.refCnt++;
    else this.list.unshift({ devName, port, type, refCnt: 1 });
  }

  /** tnl_port_map_delete(): one tunnel less on `port`; the last one takes the listening port away. */
  delete(port: number, type: string): void {
    const i = this.list.findIndex((x) => x.port === port && x.type === type);
    if (i >= 0 && --this.list[i]!.refCnt === 0) this.list.splice(i, 1);
  }

  /**
   * tnl_port_show(): "Listening ports:", then each "DEV (PORT) ref_cnt=N"; with -v (any case), the
   * classifier's match of each port instead — which has no entries while the list is empty.
   */
  show(args: readonly string[]): string {
    const lines = ['Listening ports:'];
    if (args[0]?.toLowerCase() !== '-v') for (const p of this.list) lines.push(`${p.devName} (${p.port}) ref_cnt=${p.refCnt}`);
    return `${lines.join('\n')}\n`;
  }
}
