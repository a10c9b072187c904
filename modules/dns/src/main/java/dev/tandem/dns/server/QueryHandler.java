package dev.tandem.dns.server;

import dev.tandem.dns.zone.Answer;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;

/**
 * Turns one request into its replies. Everything it needs is in one {@link ServingState} read at the
 * start, so a query never waits on the cluster or a lock. It never throws: whatever arrives gets a
 * reply (FORMERR, NOTIMP, REFUSED, NOTAUTH, BADVERS, SERVFAIL) or is dropped, and the worker lives on.
 */
public final class QueryHandler {
    private static final Logger LOG = LoggerFactory.getLogger(QueryHandler.class);

    /** What happens with a transfer request (AXFR/IXFR) once the zone is found. */
    public interface Transfers {
        void serve(Message query, ServedZone zone, Signature signature, InetAddress client, boolean tcp, Consumer<byte[]> reply);
    }

    /** What happens with an RFC 2136 UPDATE once the zone is found; may reply later, from another thread. */
    public interface Updates {
        void handle(Message update, ServedZone zone, Signature signature, InetAddress client, Consumer<byte[]> reply);
    }

    private final Supplier<ServingState> state;
    private final Transfers transfers;
    private final Updates updates;
    private final RateLimitedLog errors = new RateLimitedLog(LOG);
    /** The answer cache of the state it was made for; a new state starts a new one. */
    private volatile CacheFor cache = new CacheFor(null, new AnswerCache());

    private record CacheFor(ServingState state, AnswerCache cache) {}

    public QueryHandler(Supplier<ServingState> state, Transfers transfers, Updates updates) {
        this.state = state;
        this.transfers = transfers;
        this.updates = updates;
    }

    /**
     * @param tcp whether the request came over TCP (no size limit; transfers allowed)
     * @param reply called with each reply message, in order; not at all when the request is dropped
     */
    public void handle(byte[] request, InetAddress client, boolean tcp, Consumer<byte[]> reply) {
        if (request.length < Header.LENGTH) return; // not even a header: nothing to answer to
        if ((request[2] & 0x80) != 0) return; // a response: never answer one (no reflection loops)
        ServingState now = state.get();
        AnswerCache answers = cacheFor(now);
        int[] questionEnd = new int[1];
        AnswerCache.Key key = AnswerCache.key(request, tcp, questionEnd);
        if (key != null) {
            byte[] hit = answers.reply(key, request, questionEnd[0]);
            if (hit != null) {
                reply.accept(hit);
                return;
            }
        }
        Message query;
        try {
            query = new Message(request);
        } catch (Exception e) {
            reply.accept(Responses.headerOnly(request, Rcode.FORMERR));
            return;
        }
        if (!parsedWhole(query)) {
            // with TC set, dnsjava keeps whatever parsed and drops the rest: a request not read whole is malformed
            reply.accept(Responses.headerOnly(request, Rcode.FORMERR));
            return;
        }
        try {
            dispatch(now, query, request, client, tcp, reply, bytes -> {
                if (key != null) answers.put(key, bytes);
            });
        } catch (RuntimeException e) {
            errors.warn("failed to answer a request from " + client.getHostAddress(), e);
            reply.accept(Responses.headerOnly(request, Rcode.SERVFAIL));
        }
    }

    private AnswerCache cacheFor(ServingState now) {
        CacheFor current = cache;
        if (current.state() == now) return current.cache();
        CacheFor fresh = new CacheFor(now, new AnswerCache());
        cache = fresh;
        return fresh.cache();
    }

    /** @param cacheable receives a plain, unsigned answer, which the cache may keep for the same question */
    private void dispatch(ServingState now, Message query, byte[] wire, InetAddress client, boolean tcp, Consumer<byte[]> reply,
            Consumer<byte[]> cacheable) {
        int opcode = query.getHeader().getOpcode();
        if (opcode != Opcode.QUERY && opcode != Opcode.UPDATE && opcode != Opcode.NOTIFY) {
            reply.accept(toWire(Responses.error(query, Rcode.NOTIMP), query, tcp));
            return;
        }
        if (query.getHeader().getCount(Section.QUESTION) != 1 || count(query, Type.OPT) > 1) {
            reply.accept(toWire(Responses.error(query, Rcode.FORMERR), query, tcp));
            return;
        }
        OPTRecord opt = query.getOPT();
        if (opt != null && opt.getVersion() > 0) {
            reply.accept(toWire(badVersion(query), query, tcp));
            return;
        }
        Signature signature = null;
        TSIGRecord tsig = query.getTSIG();
        if (tsig != null) {
            TSIG key = now.keys().get(tsig.getName());
            int error = key == null ? Rcode.BADKEY : key.verify(query, wire, null);
            if (error != Rcode.NOERROR) {
                reply.accept(toWire(badSignature(query, tsig, error), query, tcp));
                return;
            }
            signature = new Signature(tsig.getName(), key, tsig);
        }
        Record question = query.getQuestion();
        ServedZone zone = now.zoneFor(question.getName());
        if (opcode == Opcode.UPDATE) {
            if (zone == null || !zone.snapshot().origin().equals(question.getName())) {
                reply.accept(signed(Responses.error(query, Rcode.NOTAUTH), signature, query, tcp));
            } else {
                updates.handle(query, zone, signature, client, bytes -> reply.accept(bytes));
            }
            return;
        }
        if (opcode == Opcode.NOTIFY) {
            // we are the primary of our zones: nobody else tells us they changed
            reply.accept(signed(Responses.error(query, Rcode.REFUSED), signature, query, tcp));
            return;
        }
        int qtype = question.getType();
        if (question.getDClass() != DClass.IN && question.getDClass() != DClass.ANY) {
            reply.accept(signed(Responses.error(query, Rcode.REFUSED), signature, query, tcp));
        } else if (qtype == Type.OPT || qtype == Type.TSIG || qtype == Type.TKEY || qtype == Type.SIG || qtype == Type.RRSIG) {
            reply.accept(signed(Responses.error(query, Rcode.FORMERR), signature, query, tcp));
        } else if (qtype == Type.MAILA || qtype == Type.MAILB) {
            reply.accept(signed(Responses.error(query, Rcode.NOTIMP), signature, query, tcp));
        } else if (zone == null) {
            reply.accept(signed(Responses.error(query, Rcode.REFUSED), signature, query, tcp));
        } else if (qtype == Type.AXFR || qtype == Type.IXFR) {
            transfers.serve(query, zone, signature, client, tcp, reply);
        } else {
            byte[] bytes = signed(answer(query, zone), signature, query, tcp);
            if (signature == null) cacheable.accept(bytes);
            reply.accept(bytes);
        }
    }

    private static Message answer(Message query, ServedZone zone) {
        Record question = query.getQuestion();
        Name qname = question.getName();
        Answer answer = zone.snapshot().lookup(qname, question.getType());
        Message reply = Responses.replyTo(query);
        Header header = reply.getHeader();
        switch (answer.kind()) {
            case NXDOMAIN, ANSWER_THEN_NXDOMAIN -> header.setRcode(Rcode.NXDOMAIN);
            default -> header.setRcode(Rcode.NOERROR);
        }
        if (answer.kind() != Answer.Kind.REFERRAL) header.setFlag(Flags.AA);
        for (RRset set : answer.answer()) {
            boolean asked = set.getName().equals(qname);
            for (Record r : set.rrs(false)) reply.addRecord(asked ? r.withName(qname) : r, Section.ANSWER);
        }
        for (Record r : answer.authority()) reply.addRecord(r, Section.AUTHORITY);
        for (RRset set : answer.additional()) {
            for (Record r : set.rrs(false)) reply.addRecord(r, Section.ADDITIONAL);
        }
        return reply;
    }

    /** An EDNS version we do not speak (RFC 6891 6.1.3): BADVERS, with our OPT saying which we do. */
    private static Message badVersion(Message query) {
        Message reply = new Message(query.getHeader().getID());
        reply.getHeader().setFlag(Flags.QR);
        reply.getHeader().setOpcode(query.getHeader().getOpcode());
        reply.getHeader().setRcode(Rcode.BADVERS & 0xf);
        reply.addRecord(query.getQuestion(), Section.QUESTION);
        reply.addRecord(new OPTRecord(Responses.MAX_UDP_PAYLOAD, Rcode.BADVERS >>> 4, 0), Section.ADDITIONAL);
        return reply;
    }

    /** RFC 8945 5.2: NOTAUTH with the TSIG error, and an unsigned TSIG record (we cannot sign with a key we lack). */
    private static Message badSignature(Message query, TSIGRecord tsig, int error) {
        Message reply = Responses.error(query, Rcode.NOTAUTH);
        reply.addRecord(new TSIGRecord(tsig.getName(), DClass.ANY, 0, tsig.getAlgorithm(), Instant.now(),
                tsig.getFudge(), new byte[0], query.getHeader().getID(), error, null), Section.ADDITIONAL);
        return reply;
    }

    private static byte[] signed(Message reply, Signature signature, Message query, boolean tcp) {
        if (signature != null) signature.sign(reply);
        return toWire(reply, query, tcp);
    }

    /** The reply on the wire, truncated (TC) to what the client can take over UDP. */
    static byte[] toWire(Message reply, Message query, boolean tcp) {
        return reply.toWire(tcp ? Message.MAXLENGTH : udpLimit(query));
    }

    /** How big a UDP reply to this query may be: 512 without EDNS, else its payload size within 512..1232. */
    public static int udpLimit(Message query) {
        OPTRecord opt = query.getOPT();
        if (opt == null) return 512;
        return Math.max(512, Math.min(opt.getPayloadSize(), Responses.MAX_UDP_PAYLOAD));
    }

    private static boolean parsedWhole(Message m) {
        for (int section = Section.QUESTION; section <= Section.ADDITIONAL; section++) {
            if (m.getSection(section).size() != m.getHeader().getCount(section)) return false;
        }
        return true;
    }

    private static int count(Message m, int type) {
        int n = 0;
        List<Record> additional = m.getSection(Section.ADDITIONAL);
        for (Record r : additional) if (r.getType() == type) n++;
        return n;
    }
}
