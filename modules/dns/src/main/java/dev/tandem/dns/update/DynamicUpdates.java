package dev.tandem.dns.update;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.DnsConfig;
import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import dev.tandem.dns.server.QueryHandler;
import dev.tandem.dns.server.Responses;
import dev.tandem.dns.server.ServedZone;
import dev.tandem.dns.server.Signature;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * RFC 2136 UPDATE, TSIG-signed with one of the zone's update keys. The prerequisites are checked and
 * the changes made against the newest committed document (a raft read barrier first), and the result
 * is committed through the cluster before NOERROR goes back: an acknowledged update is on a majority
 * of nodes and survives restarts. Updates run one at a time, off the query workers.
 */
public final class DynamicUpdates implements QueryHandler.Updates, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DynamicUpdates.class);
    private static final int ATTEMPTS = 3;
    private static final Set<Integer> UPDATABLE = new HashSet<>();

    static {
        for (String type : DnsRecordSet.TYPES) UPDATABLE.add(Type.value(type));
    }

    private final ClusterService cluster;
    private final ExecutorService worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(64), r -> {
        Thread t = new Thread(r, "dns-update");
        t.setDaemon(true);
        return t;
    });

    public DynamicUpdates(ClusterService cluster) {
        this.cluster = cluster;
    }

    /** Why an update was refused: the rcode to answer with. */
    static final class Refused extends Exception {
        final int rcode;

        Refused(int rcode, String why) {
            super(why);
            this.rcode = rcode;
        }
    }

    @Override
    public void handle(Message update, ServedZone zone, Signature signature, InetAddress client, Consumer<byte[]> reply) {
        String who = client.getHostAddress() + (signature == null ? " (unsigned)" : " (key " + signature.keyName() + ")");
        String zoneName = zone.config().name();
        if (update.getQuestion().getType() != Type.SOA) {
            reply.accept(wire(Responses.error(update, Rcode.FORMERR), signature)); // RFC 2136 3.1.1: the zone section names an SOA
            return;
        }
        if (signature == null || zone.config().updateKeys().stream().noneMatch(k -> matches(k, signature.keyName()))) {
            LOG.info("refused an update of {} from {}: {}", zoneName, who, signature == null
                    ? "updates must be signed with one of the zone's update keys" : "that key may not update this zone");
            reply.accept(wire(Responses.error(update, signature == null ? Rcode.REFUSED : Rcode.NOTAUTH), signature));
            return;
        }
        try {
            worker.execute(() -> reply.accept(wire(Responses.error(update, commit(update, zoneName, who)), signature)));
        } catch (RejectedExecutionException e) {
            LOG.warn("refused an update of {} from {}: too many updates waiting", zoneName, who);
            reply.accept(wire(Responses.error(update, Rcode.SERVFAIL), signature));
        }
    }

    private int commit(Message update, String zoneName, String who) {
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                ConfigVersion running = cluster.sync();
                ClusterConfig config = running.config();
                DnsZone zone = config.dns().zone(zoneName).orElseThrow(() -> new Refused(Rcode.NOTAUTH, "the zone is gone"));
                DnsZone next = apply(update, zone);
                if (next.equals(zone)) {
                    LOG.info("update of {} from {}: prerequisites hold, nothing to change", zoneName, who);
                    return Rcode.NOERROR;
                }
                DnsConfig dns = config.dns().withZone(next);
                ClusterConfig changed = new ClusterConfig(config.schemaVersion(), config.cluster(), config.sites(), config.nodes(),
                        config.users(), dns, config.proxy(), config.vpn(), config.volumes());
                ConfigVersion committed = cluster.commit(CommitRequest.of(changed, "dns-update:" + who.split(" ")[0], who,
                        "RFC 2136 update of " + zoneName).expecting(running.version()));
                LOG.info("update of {} from {} committed as version {}", zoneName, who, committed.version());
                return Rcode.NOERROR;
            } catch (Refused e) {
                LOG.info("update of {} from {} refused ({}): {}", zoneName, who, Rcode.string(e.rcode), e.getMessage());
                return e.rcode;
            } catch (CommitException e) {
                if (e.reason() == CommitException.Reason.CONFLICT && attempt < ATTEMPTS) continue;
                LOG.warn("update of {} from {} not committed: {}", zoneName, who, e.getMessage());
                return e.reason() == CommitException.Reason.INVALID ? Rcode.REFUSED : Rcode.SERVFAIL;
            } catch (IOException | RuntimeException e) {
                LOG.warn("update of {} from {} failed", zoneName, who, e);
                return Rcode.SERVFAIL;
            }
        }
        return Rcode.SERVFAIL;
    }

    /** Checks the prerequisites (RFC 2136 3.2) and applies the updates (3.4) to the zone's configured records. */
    static DnsZone apply(Message update, DnsZone zone) throws Refused, IOException {
        ZoneData data = new ZoneData(zone);
        Name origin = data.origin();
        checkPrerequisites(update.getSection(Section.PREREQ), data, origin);
        List<Record> updates = update.getSection(Section.UPDATE);
        for (Record r : updates) prescan(r, origin);
        for (Record r : updates) {
            int type = r.getType();
            if (type == Type.SOA) continue; // the serial and the SOA are the cluster's to keep
            if (r.getDClass() == DClass.IN) {
                data.add(r);
            } else if (r.getDClass() == DClass.ANY) {
                if (type == Type.ANY) data.deleteName(r.getName());
                else data.deleteRRset(r.getName(), type);
            } else {
                data.deleteRecord(Record.newRecord(r.getName(), type, DClass.IN, 0, r.rdataToWireCanonical()));
            }
        }
        return data.toZone();
    }

    private static void checkPrerequisites(List<Record> prerequisites, ZoneData data, Name origin) throws Refused {
        Map<Name, Map<Integer, Set<Record>>> valueDependent = new HashMap<>();
        for (Record r : prerequisites) {
            if (r.getTTL() != 0) throw new Refused(Rcode.FORMERR, "a prerequisite has a TTL");
            if (!r.getName().subdomain(origin)) throw new Refused(Rcode.NOTZONE, r.getName() + " is outside the zone");
            boolean empty = r.rdataToString().isEmpty();
            int type = r.getType();
            if (r.getDClass() == DClass.ANY) {
                if (!empty) throw new Refused(Rcode.FORMERR, "a prerequisite of class ANY has data");
                if (type == Type.ANY) {
                    if (!data.nameInUse(r.getName())) throw new Refused(Rcode.NXDOMAIN, r.getName() + " is not in use");
                } else if (data.rrset(r.getName(), type).isEmpty()) {
                    throw new Refused(Rcode.NXRRSET, "no " + Type.string(type) + " at " + r.getName());
                }
            } else if (r.getDClass() == DClass.NONE) {
                if (!empty) throw new Refused(Rcode.FORMERR, "a prerequisite of class NONE has data");
                if (type == Type.ANY) {
                    if (data.nameInUse(r.getName())) throw new Refused(Rcode.YXDOMAIN, r.getName() + " is in use");
                } else if (!data.rrset(r.getName(), type).isEmpty()) {
                    throw new Refused(Rcode.YXRRSET, Type.string(type) + " exists at " + r.getName());
                }
            } else if (r.getDClass() == DClass.IN) {
                valueDependent.computeIfAbsent(r.getName(), k -> new HashMap<>())
                        .computeIfAbsent(type, k -> new HashSet<>())
                        .add(r);
            } else {
                throw new Refused(Rcode.FORMERR, "a prerequisite of class " + DClass.string(r.getDClass()));
            }
        }
        for (Map.Entry<Name, Map<Integer, Set<Record>>> name : valueDependent.entrySet()) {
            for (Map.Entry<Integer, Set<Record>> set : name.getValue().entrySet()) {
                if (!new HashSet<>(data.rrset(name.getKey(), set.getKey())).equals(set.getValue())) {
                    throw new Refused(Rcode.NXRRSET, "the " + Type.string(set.getKey()) + " records at " + name.getKey() + " differ");
                }
            }
        }
    }

    /** RFC 2136 3.4.1: every update record is checked before any is applied, so nothing is half-done. */
    private static void prescan(Record r, Name origin) throws Refused {
        if (!r.getName().subdomain(origin)) throw new Refused(Rcode.NOTZONE, r.getName() + " is outside the zone");
        int type = r.getType();
        int dclass = r.getDClass();
        if (dclass == DClass.IN) {
            if (type == Type.SOA) return;
            if (isMeta(type) || type == Type.ANY) throw new Refused(Rcode.FORMERR, "cannot add a record of type " + Type.string(type));
            if (!UPDATABLE.contains(type)) throw new Refused(Rcode.REFUSED, "records of type " + Type.string(type) + " are not served here");
            if (r.rdataToString().isEmpty()) throw new Refused(Rcode.FORMERR, "an added record has no data");
        } else if (dclass == DClass.ANY) {
            if (r.getTTL() != 0 || !r.rdataToString().isEmpty()) throw new Refused(Rcode.FORMERR, "a delete of class ANY has a TTL or data");
            if (isMeta(type) && type != Type.ANY) throw new Refused(Rcode.FORMERR, "cannot delete type " + Type.string(type));
        } else if (dclass == DClass.NONE) {
            if (r.getTTL() != 0) throw new Refused(Rcode.FORMERR, "a delete of class NONE has a TTL");
            if (isMeta(type) || type == Type.ANY) throw new Refused(Rcode.FORMERR, "cannot delete type " + Type.string(type));
        } else {
            throw new Refused(Rcode.FORMERR, "an update record of class " + DClass.string(dclass));
        }
    }

    /** RFC 6895 3.1: OPT and the QTYPE range 128-255 (ANY among them) are never data. */
    private static boolean isMeta(int type) {
        return type == Type.OPT || (type >= 128 && type <= 255);
    }

    private static boolean matches(String configured, Name keyName) {
        String name = keyName.toString();
        return name.equalsIgnoreCase(configured) || name.equalsIgnoreCase(configured + ".");
    }

    private static byte[] wire(Message reply, Signature signature) {
        if (signature != null) signature.sign(reply);
        return reply.toWire(Message.MAXLENGTH);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
