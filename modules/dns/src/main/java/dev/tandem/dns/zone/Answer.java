package dev.tandem.dns.zone;

import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;

/**
 * What a zone says to one question. Answer records carry their owner as stored; the server writes the
 * question's spelling back in (a query for {@code WwW.Demo.Test} gets {@code WwW.Demo.Test} back).
 */
public record Answer(Kind kind, List<RRset> answer, List<Record> authority, List<RRset> additional) {
    public enum Kind {
        ANSWER,
        NODATA,
        NXDOMAIN,
        /** a CNAME chain that ends at a name that does not exist: NXDOMAIN with the chain (RFC 6604) */
        ANSWER_THEN_NXDOMAIN,
        REFERRAL
    }

    static final class Builder {
        private final List<RRset> answer = new ArrayList<>(2);
        private final List<Record> authority = new ArrayList<>(2);
        private final List<RRset> additional = new ArrayList<>(0);

        void answer(RRset set, Name owner) {
            answer.add(set.getName().equals(owner) ? set : rename(set, owner));
        }

        void authority(Record r) {
            authority.add(r);
        }

        void authority(RRset set) {
            authority.addAll(set.rrs(false));
        }

        void additional(RRset set) {
            if (!additional.contains(set)) additional.add(set);
        }

        Answer build(Kind kind) {
            return new Answer(kind, answer, authority, additional);
        }

        /** A wildcard's records under the name asked for (RFC 4592 3.3.2: "synthesized" records). */
        private static RRset rename(RRset set, Name owner) {
            RRset out = new RRset();
            for (Record r : set.rrs(false)) out.addRR(r.withName(owner));
            return out;
        }
    }
}
