package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A replicated block volume and the resource group it heads. The operator sets its shape; who is
 * primary, under which epoch, and which replicas are known to be out of date are safety decisions
 * that the failover controller and the primary commit through raft like any other change, so every
 * node agrees on them and every one of them is in the history.
 *
 * @param sizeMib size in MiB (cannot change once created)
 * @param blockSize bytes per block, the unit of bitmaps and resync (default 4096)
 * @param replicas nodes at different sites holding a copy; the first is the initial primary
 * @param primary the node that may accept writes, under {@code epoch}
 * @param epoch raised at every change of primary; replicas refuse writes from an older one
 * @param outdated replicas the primary found missing while it went on writing: never promoted
 *     automatically, and up to date again only after a resync
 * @param resyncMibPerSecond background resync rate limit
 * @param handoverTo set by a planned switchover: the primary stops taking writes and waits until its
 *     peers have everything it sent, before the new primary is committed
 */
public record Volume(
        String name,
        Integer sizeMib,
        Integer blockSize,
        Protocol protocol,
        List<Replica> replicas,
        String primary,
        Long epoch,
        List<String> outdated,
        Integer resyncMibPerSecond,
        String handoverTo,
        Failover failover,
        Group group) {

    public static final int NBD_PORT = 10809;
    public static final int REPLICATION_PORT = 7789;

    public Volume {
        blockSize = blockSize == null ? 4096 : blockSize;
        protocol = protocol == null ? Protocol.C : protocol;
        replicas = replicas == null ? List.of() : List.copyOf(replicas);
        epoch = epoch == null ? 1L : epoch;
        outdated = outdated == null ? List.of() : List.copyOf(outdated);
        resyncMibPerSecond = resyncMibPerSecond == null ? 100 : resyncMibPerSecond;
        failover = failover == null ? new Failover(null, null, null) : failover;
        group = group == null ? new Group(null, null) : group;
    }

    @JsonIgnore
    public long sizeBytes() {
        return (long) sizeMib << 20;
    }

    public Optional<Replica> replica(String node) {
        return replicas.stream().filter(r -> r.name().equals(node)).findFirst();
    }

    @JsonIgnore
    public List<String> replicaNodes() {
        return replicas.stream().map(Replica::name).toList();
    }

    /** The primary as decided, or the first replica when the operator has not named one. */
    @JsonIgnore
    public String effectivePrimary() {
        return primary != null ? primary : replicas.isEmpty() ? null : replicas.get(0).name();
    }

    /** A new primary under a new epoch; a handover in progress is over. */
    public Volume withPrimary(String node, long nextEpoch) {
        return new Volume(name, sizeMib, blockSize, protocol, replicas, node, nextEpoch, outdated,
                resyncMibPerSecond, null, failover, group);
    }

    public Volume withOutdated(List<String> nodes) {
        return new Volume(name, sizeMib, blockSize, protocol, replicas, primary, epoch, nodes,
                resyncMibPerSecond, handoverTo, failover, group);
    }

    public Volume withHandoverTo(String node) {
        return new Volume(name, sizeMib, blockSize, protocol, replicas, primary, epoch, outdated,
                resyncMibPerSecond, node, failover, group);
    }

    /** @param name the node holding this replica; @param device a block device, or none for a file in the data directory */
    public record Replica(String name, String device) {}

    /**
     * @param automatic promote a secondary by itself when the primary's node is gone (needs a quorum)
     * @param deadAfter how long the primary's node must be unreachable before a failover
     * @param lease how long a primary without quorum keeps serving before it fences itself
     */
    public record Failover(Boolean automatic, Duration deadAfter, Duration lease) {
        public Failover {
            automatic = automatic == null || automatic;
            deadAfter = deadAfter == null ? Duration.ofSeconds(3) : deadAfter;
            lease = lease == null ? Duration.ofSeconds(2) : lease;
        }
    }

    /**
     * What runs on top of the volume at its primary, started in this order after promotion and stopped
     * in reverse before demotion. DNS and proxy pool members that name this volume follow it by site.
     */
    public record Group(Mount mount, Service service) {}

    /**
     * The volume attached through its own NBD export with {@code nbd-client} and mounted.
     *
     * @param device the NBD device to attach ({@code /dev/nbd0})
     */
    public record Mount(String device, String path, String fsType, String options) {}

    /** Either a systemd unit or start/stop/status shell commands (status: exit 0 means running). */
    public record Service(String unit, String start, String stop, String status, Duration timeout) {
        public Service {
            timeout = timeout == null ? Duration.ofSeconds(30) : timeout;
        }
    }

    public enum Protocol {
        /** a write is acknowledged once it is on the local disk and on every up-to-date secondary */
        C,
        /** a write is acknowledged once it is on the local disk and sent */
        A;

        @JsonValue
        @Override
        public String toString() {
            return name();
        }
    }
}
