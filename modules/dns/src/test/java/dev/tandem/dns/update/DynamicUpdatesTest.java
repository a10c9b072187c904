package dev.tandem.dns.update;

import static dev.tandem.dns.DemoZone.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import dev.tandem.dns.DemoZone;
import dev.tandem.dns.zone.ZoneSnapshot;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * RFC 2136 prerequisites and updates against the zone as configured, without the cluster: what
 * {@code DynamicUpdates.apply} makes of one UPDATE message. Each update goes through the wire first,
 * as it would arrive.
 */
class DynamicUpdatesTest {
    private final DnsZone zone = DemoZone.zone();

    @Test
    void anAddToANewNameCreatesARecordSetWithARelativeName() throws Exception {
        Update update = update();
        update.add(name("new"), Type.A, 300, "192.0.2.99");
        DnsZone next = apply(update);

        DnsRecordSet added = next.recordSet("new").orElseThrow();
        assertThat(added.a()).containsExactly("192.0.2.99");
        assertThat(added.ttl()).as("the zone's default TTL is left implicit").isNull();
        assertThat(next.records()).hasSize(zone.records().size() + 1);
        assertThat(served(next, "new", Type.A)).extracting(Record::rdataToString).containsExactly("192.0.2.99");
    }

    @Test
    void anAddWithAnotherTtlGivesTheNameThatTtl() throws Exception {
        Update update = update();
        update.add(name("new.sub2"), Type.MX, 60, "10 mail");
        DnsZone next = apply(update);

        DnsRecordSet added = next.recordSet("new.sub2").orElseThrow();
        assertThat(added.ttl()).isEqualTo(Duration.ofSeconds(60));
        assertThat(added.mx()).as("names in data are written absolute").containsExactly("10 mail.demo.test.");
        assertThat(served(next, "new.sub2", Type.MX)).singleElement().extracting(Record::getTTL).isEqualTo(60L);
    }

    @Test
    void anAddToAnExistingRRsetExtendsIt() throws Exception {
        Update update = update();
        update.add(name("mail"), Type.A, 300, "192.0.2.26");
        DnsZone next = apply(update);

        assertThat(next.recordSet("mail").orElseThrow().a()).containsExactly("192.0.2.25", "192.0.2.26");
        // adding what is there already changes nothing
        Update again = update();
        again.add(name("mail"), Type.A, 300, "192.0.2.25");
        assertThat(apply(again)).isEqualTo(zone);
    }

    @Test
    void aDeleteOfAnRRsetRemovesOnlyThatType() throws Exception {
        Update update = update();
        update.delete(name("@"), Type.MX);
        DnsZone next = apply(update);

        DnsRecordSet apex = next.recordSet("@").orElseThrow();
        assertThat(apex.mx()).isEmpty();
        assertThat(apex.ns()).containsExactly("ns-a", "ns-b");
        assertThat(apex.txt()).containsExactly("tandem demo zone");
    }

    @Test
    void aDeleteOfANameRemovesItsRecordSet() throws Exception {
        Update update = update();
        update.delete(name("mail"));
        DnsZone next = apply(update);

        assertThat(next.recordSet("mail")).isEmpty();
        assertThat(next.records()).hasSize(zone.records().size() - 1);
        // a pool is not the update's to delete: the name keeps pointing at it
        Update pool = update();
        pool.delete(name("www"));
        assertThat(apply(pool).recordSet("www").orElseThrow().pool()).isEqualTo("www");
    }

    @Test
    void aDeleteOfOneRecordLeavesTheRest() throws Exception {
        Update grow = update();
        grow.add(name("mail"), Type.A, 300, "192.0.2.26");
        DnsZone two = DynamicUpdates.apply(wire(grow), zone);

        Update update = update();
        update.delete(name("mail"), Type.A, "192.0.2.25");
        DnsZone next = DynamicUpdates.apply(wire(update), two);
        assertThat(next.recordSet("mail").orElseThrow().a()).containsExactly("192.0.2.26");

        // deleting the last one deletes the name
        Update last = update();
        last.delete(name("mail"), Type.A, "192.0.2.26");
        assertThat(DynamicUpdates.apply(wire(last), next).recordSet("mail")).isEmpty();
    }

    @Test
    void prerequisitesOnNames() throws Exception {
        Update inUse = update();
        inUse.present(name("nope"));
        assertRefused(inUse, Rcode.NXDOMAIN);

        Update notInUse = update();
        notInUse.absent(name("mail"));
        assertRefused(notInUse, Rcode.YXDOMAIN);

        // a pool name is in use although it has no record of its own in the config
        Update pool = update();
        pool.absent(name("www"));
        assertRefused(pool, Rcode.YXDOMAIN);

        // an empty non-terminal is not in use (RFC 2136 2.4.5: it owns no RRs)
        Update ent = update();
        ent.absent(name("deep"));
        ent.add(name("deep"), Type.TXT, 300, "\"now in use\"");
        assertThat(apply(ent).recordSet("deep").orElseThrow().txt()).containsExactly("now in use");
    }

    @Test
    void prerequisitesOnRRsets() throws Exception {
        Update exists = update();
        exists.present(name("mail"), Type.AAAA);
        assertRefused(exists, Rcode.NXRRSET);

        Update notExists = update();
        notExists.absent(name("mail"), Type.A);
        assertRefused(notExists, Rcode.YXRRSET);

        Update holds = update();
        holds.present(name("mail"), Type.A);
        holds.absent(name("mail"), Type.AAAA);
        holds.add(name("mail"), Type.AAAA, 300, "2001:db8::25");
        assertThat(served(apply(holds), "mail", Type.AAAA)).extracting(Record::rdataToString).containsExactly("2001:db8:0:0:0:0:0:25");
    }

    @Test
    void valueDependentPrerequisitesCompareTheWholeRRset() throws Exception {
        Update differs = update();
        differs.present(name("mail"), Type.A, "192.0.2.99");
        assertRefused(differs, Rcode.NXRRSET);

        // the names in data compare case-insensitively, as DNS names do
        Update matches = update();
        matches.present(name("@"), Type.MX, "10 MAIL");
        matches.delete(name("@"), Type.TXT);
        assertThat(apply(matches).recordSet("@").orElseThrow().txt()).isEmpty();

        // the set must be equal, not merely contain the value
        Update subset = update();
        subset.present(name("@"), Type.NS, "ns-a");
        assertRefused(subset, Rcode.NXRRSET);
    }

    @Test
    void aPrerequisiteWithATtlIsFormerr() throws Exception {
        Update update = update();
        update.present(Record.fromString(name("mail"), Type.A, DClass.IN, 60, "192.0.2.25", name("@")));
        assertRefused(update, Rcode.FORMERR);
    }

    @Test
    void theApexKeepsItsNameServers() throws Exception {
        Update rrset = update();
        rrset.delete(name("@"), Type.NS);
        assertThat(apply(rrset).recordSet("@").orElseThrow().ns()).containsExactly("ns-a", "ns-b");

        Update name = update();
        name.delete(name("@"));
        DnsRecordSet apex = apply(name).recordSet("@").orElseThrow();
        assertThat(apex.ns()).containsExactly("ns-a", "ns-b");
        assertThat(apex.mx()).isEmpty();
        assertThat(apex.txt()).isEmpty();

        // one at a time: all but the last go
        Update each = update();
        each.delete(name("@"), Type.NS, "ns-a");
        each.delete(name("@"), Type.NS, "ns-b");
        assertThat(apply(each).recordSet("@").orElseThrow().ns()).containsExactly("ns-b");
    }

    @Test
    void theSoaIsNotTheUpdatesToChange() throws Exception {
        Update update = update();
        update.add(DemoZone.snapshot().soa());
        update.delete(name("@"), Type.SOA);
        assertThat(apply(update)).isEqualTo(zone);
    }

    @Test
    void aCnameAndOtherDataDoNotMix() throws Exception {
        // RFC 2136 3.4.2.2: a CNAME added to a name with other data is ignored, and other data added to a CNAME too
        Update cnameOnData = update();
        cnameOnData.add(name("mail"), Type.CNAME, 300, "www");
        assertThat(apply(cnameOnData)).isEqualTo(zone);

        Update dataOnCname = update();
        dataOnCname.add(name("docs"), Type.TXT, 300, "hello");
        assertThat(apply(dataOnCname)).isEqualTo(zone);

        // a pool name has address records too, though none are written in the config
        Update cnameOnPool = update();
        cnameOnPool.add(name("www"), Type.CNAME, 300, "mail");
        assertThat(apply(cnameOnPool)).isEqualTo(zone);

        // a CNAME replaces the CNAME there
        Update replace = update();
        replace.add(name("docs"), Type.CNAME, 300, "mail");
        assertThat(apply(replace).recordSet("docs").orElseThrow().cname()).isEqualTo("mail.demo.test.");

        // a CNAME can go where the rest was deleted in the same update
        Update swap = update();
        swap.delete(name("mail"));
        swap.add(name("mail"), Type.CNAME, 300, "www");
        DnsRecordSet mail = apply(swap).recordSet("mail").orElseThrow();
        assertThat(mail.a()).isEmpty();
        assertThat(mail.cname()).isEqualTo("www.demo.test.");
    }

    @Test
    void aRecordOutsideTheZoneIsNotzone() throws Exception {
        Update add = update();
        add.add(name("www.example.org."), Type.A, 300, "192.0.2.1");
        assertRefused(add, Rcode.NOTZONE);

        Update prerequisite = update();
        prerequisite.present(name("www.example.org."));
        assertRefused(prerequisite, Rcode.NOTZONE);
    }

    @Test
    void nothingIsChangedWhenOneUpdateIsBad() throws Exception {
        // RFC 2136 3.4.1: the prescan refuses the whole message before anything is applied
        Update update = update();
        update.add(name("fine"), Type.A, 300, "192.0.2.5");
        update.add(name("www.example.org."), Type.A, 300, "192.0.2.1");
        assertRefused(update, Rcode.NOTZONE);

        Update meta = update();
        meta.add(Record.newRecord(name("x"), Type.ANY, DClass.IN, 300, new byte[] {1}));
        assertRefused(meta, Rcode.FORMERR);

        Update unserved = update();
        unserved.add(name("x"), Type.HINFO, 300, "cpu os");
        assertRefused(unserved, Rcode.REFUSED);
    }

    @Test
    void recordsTheUpdateDidNotTouchKeepTheirText() throws Exception {
        Update update = update();
        update.add(name("new"), Type.A, 300, "192.0.2.99");
        update.add(name("mail"), Type.A, 300, "192.0.2.26");
        DnsZone next = apply(update);

        for (String untouched : List.of("@", "docs", "sub", "*.wild", "dangling", "a.b.deep", "www", "big")) {
            assertThat(next.recordSet(untouched)).as(untouched).isEqualTo(zone.recordSet(untouched));
        }
        assertThat(next.recordSet("@").orElseThrow().mx()).containsExactly("10 mail");
        assertThat(next.recordSet("docs").orElseThrow().cname()).isEqualTo("www");
        assertThat(next.recordSet("sub").orElseThrow().ns()).containsExactly("ns1.sub", "ns.elsewhere.example.");
        // the order of the entries is kept, and the new name comes last
        assertThat(next.records().subList(0, zone.records().size())).extracting(DnsRecordSet::name)
                .containsExactlyElementsOf(zone.records().stream().map(DnsRecordSet::name).toList());
        assertThat(next.records().get(next.records().size() - 1).name()).isEqualTo("new");
    }

    @Test
    void anAddedTxtRecordMeansTheSameAfterTheRoundTripThroughTheConfig() throws Exception {
        // TXT strings with quotes, backslashes or bytes outside ASCII are stored as text and parsed
        // back when the zone is built: what is served must be what was added
        String[] strings = {"plain words", "say \"hi\"", "back\\slash", "\"starts with a quote", "caf\u00e9"};
        for (String text : strings) {
            byte[] raw = text.getBytes(StandardCharsets.UTF_8);
            byte[] rdata = new byte[raw.length + 1];
            rdata[0] = (byte) raw.length;
            System.arraycopy(raw, 0, rdata, 1, raw.length);
            Record added = Record.newRecord(name("t"), Type.TXT, DClass.IN, 300, rdata);
            Update update = update();
            update.add(added);
            DnsZone next = apply(update);

            assertThat(served(next, "t", Type.TXT)).as(text).singleElement()
                    .satisfies(r -> assertThat(((TXTRecord) r).getStringsAsByteArrays()).containsExactly(raw));
        }
        // several strings in one record stay several
        Update update = update();
        update.add(name("t"), Type.TXT, 300, "\"one\" \"two\"");
        assertThat(served(apply(update), "t", Type.TXT)).singleElement()
                .satisfies(r -> assertThat(((TXTRecord) r).getStrings()).containsExactly("one", "two"));
    }

    private static Update update() {
        return new Update(name("@"));
    }

    /** As the server gets it: through the wire and back. */
    private static Message wire(Update update) throws Exception {
        return new Message(update.toWire());
    }

    private DnsZone apply(Update update) throws Exception {
        return DynamicUpdates.apply(wire(update), zone);
    }

    private void assertRefused(Update update, int rcode) {
        assertThatThrownBy(() -> apply(update))
                .isInstanceOfSatisfying(DynamicUpdates.Refused.class, e -> assertThat(Rcode.string(e.rcode)).isEqualTo(Rcode.string(rcode)));
    }

    private static List<Record> served(DnsZone zone, String owner, int type) {
        ZoneSnapshot snapshot = DemoZone.snapshot(zone, 2, List.of());
        return snapshot.lookup(name(owner), type).answer().stream().flatMap(s -> s.rrs(false).stream()).toList();
    }
}
