package dev.tandem.dns.xfr;

import dev.tandem.dns.server.QueryHandler;
import dev.tandem.dns.server.Responses;
import dev.tandem.dns.server.ServedZone;
import dev.tandem.dns.server.Signature;
import dev.tandem.dns.zone.ZoneSnapshot;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Serial;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * AXFR (RFC 5936) and IXFR (RFC 1995) for secondaries on the zone's access list or signing with one
 * of its keys. A transfer carries the zone as configured: a failover pool appears with its preferred
 * tier, since health-checked answers only make sense from a server that checks.
 */
public final class ZoneTransfers implements QueryHandler.Transfers {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneTransfers.class);
    /** Records per message: keeps each message well under 64 KiB whatever the record sizes. */
    private static final int RECORDS_PER_MESSAGE = 100;

    /** The zone's transfer form now, and (if the history still has it) at an older serial. */
    public interface Source {
        ZoneSnapshot current(ServedZone zone);

        Optional<ZoneSnapshot> at(ServedZone zone, long serial);
    }

    private final Source source;

    public ZoneTransfers(Source source) {
        this.source = source;
    }

    @Override
    public void serve(Message query, ServedZone zone, Signature signature, InetAddress client, boolean tcp, Consumer<byte[]> reply) {
        int qtype = query.getQuestion().getType();
        String who = client.getHostAddress() + (signature == null ? "" : " (key " + signature.keyName() + ")");
        String zoneName = zone.config().name();
        if (!allowed(zone, signature, client)) {
            LOG.info("refused {} of {} to {}", Type.string(qtype), zoneName, who);
            int rcode = signature == null ? Rcode.REFUSED : Rcode.NOTAUTH;
            reply.accept(wire(signed(Responses.error(query, rcode), signature), tcp, query));
            return;
        }
        if (!query.getQuestion().getName().equals(zone.snapshot().origin())) {
            reply.accept(wire(signed(Responses.error(query, Rcode.NOTAUTH), signature), tcp, query));
            return;
        }
        ZoneSnapshot now = source.current(zone);
        if (qtype == Type.IXFR) {
            Long known = clientSerial(query);
            if (known == null) {
                reply.accept(wire(signed(Responses.error(query, Rcode.FORMERR), signature), tcp, query));
                return;
            }
            if (!tcp || Serial.compare(known, now.serial()) >= 0) {
                // up to date, or asked over UDP: the SOA alone tells the client what to do next (RFC 1995 2, 4)
                Message m = answerStart(query);
                m.addRecord(now.soa(), Section.ANSWER);
                reply.accept(wire(signed(m, signature), tcp, query));
                return;
            }
            Optional<ZoneSnapshot> old = source.at(zone, known);
            if (old.isPresent()) {
                stream(query, signature, incremental(old.get(), now), reply);
                LOG.info("IXFR of {} from serial {} to {} for {}", zoneName, known, now.serial(), who);
                return;
            }
            LOG.info("IXFR of {} from serial {}: no history for it; sending the whole zone to {}", zoneName, known, who);
        } else if (!tcp) {
            reply.accept(wire(signed(Responses.error(query, Rcode.FORMERR), signature), false, query));
            return;
        }
        stream(query, signature, full(now), reply);
        LOG.info("AXFR of {} serial {} ({} records) for {}", zoneName, now.serial(), now.recordCount(), who);
    }

    private static boolean allowed(ServedZone zone, Signature signature, InetAddress client) {
        if (signature != null) return zone.config().transfer().keys().stream().anyMatch(k -> keyNameMatches(k, signature));
        return zone.transferFrom().contains(client);
    }

    static boolean keyNameMatches(String configured, Signature signature) {
        String name = signature.keyName().toString();
        return name.equalsIgnoreCase(configured) || name.equalsIgnoreCase(configured + ".");
    }

    private static Long clientSerial(Message query) {
        for (Record r : query.getSection(Section.AUTHORITY)) {
            if (r instanceof SOARecord soa) return soa.getSerial();
        }
        return null;
    }

    /** AXFR body: SOA, every other record, SOA. */
    private static List<Record> full(ZoneSnapshot zone) {
        List<Record> records = new ArrayList<>(zone.records());
        records.add(zone.soa());
        return records;
    }

    /** IXFR body (RFC 1995 4): new SOA, then old SOA + deletions, new SOA + additions, then new SOA. */
    private static List<Record> incremental(ZoneSnapshot old, ZoneSnapshot now) {
        Set<ByteBuffer> before = withTtl(old.records());
        Set<ByteBuffer> after = withTtl(now.records());
        List<Record> out = new ArrayList<>();
        out.add(now.soa());
        out.add(old.soa());
        for (Record r : old.records()) if (r.getType() != Type.SOA && !after.contains(withTtl(r))) out.add(r);
        out.add(now.soa());
        for (Record r : now.records()) if (r.getType() != Type.SOA && !before.contains(withTtl(r))) out.add(r);
        out.add(now.soa());
        return out;
    }

    /** Records compared with their TTL (Record.equals leaves it out): a new TTL is a change the secondary must get. */
    private static Set<ByteBuffer> withTtl(List<Record> records) {
        Set<ByteBuffer> out = new HashSet<>();
        for (Record r : records) out.add(withTtl(r));
        return out;
    }

    private static ByteBuffer withTtl(Record r) {
        return ByteBuffer.wrap(r.toWireCanonical());
    }

    private static void stream(Message query, Signature signature, List<Record> records, Consumer<byte[]> reply) {
        TSIG.StreamGenerator signer = signature == null ? null : new TSIG.StreamGenerator(signature.key(), signature.requestTsig());
        for (int from = 0; from < records.size(); from += RECORDS_PER_MESSAGE) {
            Message m = answerStart(query);
            if (from > 0) m.removeAllRecords(Section.QUESTION);
            for (Record r : records.subList(from, Math.min(records.size(), from + RECORDS_PER_MESSAGE))) {
                m.addRecord(r, Section.ANSWER);
            }
            if (signer != null) signer.generate(m);
            reply.accept(m.toWire());
        }
    }

    private static Message answerStart(Message query) {
        Message m = Responses.replyTo(query);
        m.getHeader().setFlag(Flags.AA);
        return m;
    }

    private static Message signed(Message m, Signature signature) {
        if (signature != null) signature.sign(m);
        return m;
    }

    private static byte[] wire(Message m, boolean tcp, Message query) {
        return m.toWire(tcp ? Message.MAXLENGTH : QueryHandler.udpLimit(query));
    }
}
