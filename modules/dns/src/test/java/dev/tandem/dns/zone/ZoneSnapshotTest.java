package dev.tandem.dns.zone;

import static dev.tandem.dns.DemoZone.address;
import static dev.tandem.dns.DemoZone.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.DnsPool;
import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import dev.tandem.dns.DemoZone;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/** Lookup in one zone (RFC 1034 4.3.2, RFC 4592 wildcards, RFC 2308 negative answers), without the wire. */
class ZoneSnapshotTest {
    private final ZoneSnapshot zone = DemoZone.snapshot();

    @Test
    void anExactMatchAnswersWithTheWholeRRset() {
        Answer answer = zone.lookup(name("mail"), Type.A);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER);
        assertThat(records(answer.answer())).singleElement().satisfies(r -> {
            assertThat(r.getName()).isEqualTo(name("mail"));
            assertThat(((ARecord) r).getAddress()).isEqualTo(address("192.0.2.25"));
            assertThat(r.getTTL()).as("the zone's default TTL, 5m").isEqualTo(300);
        });
        assertThat(answer.authority()).isEmpty();
    }

    @Test
    void anMxAnswerCarriesTheAddressOfItsInZoneTarget() {
        Answer answer = zone.lookup(name("@"), Type.MX);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER);
        assertThat(records(answer.answer())).extracting(Record::rdataToString).containsExactly("10 mail.demo.test.");
        assertThat(records(answer.additional())).extracting(Record::getName).containsExactly(name("mail"));
    }

    @Test
    void lookupIgnoresCase() {
        Answer answer = zone.lookup(name("MaIl"), Type.A);
        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER);
        assertThat(records(answer.answer())).hasSize(1);
    }

    @Test
    void aNameWithoutTheTypeIsNodataWithTheSoaCappedByItsMinimum() {
        Answer answer = zone.lookup(name("mail"), Type.AAAA);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.NODATA);
        assertThat(answer.answer()).isEmpty();
        // RFC 2308 5: the negative TTL is min(SOA TTL, MINIMUM); the demo has TTL 5m and minimum 1m
        assertThat(answer.authority()).singleElement().isInstanceOfSatisfying(SOARecord.class, soa -> {
            assertThat(soa.getName()).isEqualTo(name("@"));
            assertThat(soa.getTTL()).isEqualTo(60);
            assertThat(soa.getSerial()).isEqualTo(DemoZone.SERIAL);
        });
        assertThat(zone.soa().getTTL()).as("the SOA itself keeps the zone TTL").isEqualTo(300);
    }

    @Test
    void theNegativeTtlIsTheSoaTtlWhenThatIsSmaller() throws Exception {
        DnsZone shortTtl = new DnsZone("demo.test", Duration.ofSeconds(20), new DnsZone.Soa(null, null, null, null, null, Duration.ofHours(1)),
                null, null, null, DemoZone.zone().records());
        ZoneSnapshot snapshot = ZoneBuilder.build(shortTtl, 1, Map.of(), pool -> List.of());
        assertThat(snapshot.lookup(name("mail"), Type.TXT).authority()).singleElement().extracting(Record::getTTL).isEqualTo(20L);
    }

    @Test
    void aNameThatDoesNotExistIsNxdomain() {
        Answer answer = zone.lookup(name("nope"), Type.A);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.NXDOMAIN);
        assertThat(answer.answer()).isEmpty();
        assertThat(answer.authority()).singleElement().isInstanceOf(SOARecord.class);
    }

    @Test
    void anEmptyNonTerminalExistsAndAnswersNodata() {
        // a.b.deep has an A record: b.deep and deep own nothing, but exist (RFC 8020: NXDOMAIN would deny a.b.deep)
        for (String ent : List.of("b.deep", "deep")) {
            Answer answer = zone.lookup(name(ent), Type.A);
            assertThat(answer.kind()).as(ent).isEqualTo(Answer.Kind.NODATA);
            assertThat(answer.authority()).singleElement().isInstanceOf(SOARecord.class);
        }
        assertThat(zone.lookup(name("x.deep"), Type.A).kind()).isEqualTo(Answer.Kind.NXDOMAIN);
    }

    @Test
    void aWildcardAnswersForANameBelowItsParentUnderTheNameAsked() {
        Answer answer = zone.lookup(name("anything.wild"), Type.A);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER);
        assertThat(records(answer.answer())).singleElement().satisfies(r -> {
            assertThat(r.getName()).as("synthesized under the query name, not *.wild").isEqualTo(name("anything.wild"));
            assertThat(((ARecord) r).getAddress()).isEqualTo(address("192.0.2.40"));
        });
        // several labels below the closest encloser still match (RFC 4592 2.2.1)
        assertThat(records(zone.lookup(name("x.y.wild"), Type.TXT).answer()))
                .singleElement()
                .satisfies(r -> assertThat(((TXTRecord) r).getStrings()).containsExactly("from the wildcard"));
        // the wildcard owns A and TXT: other types at a synthesized name are NODATA, not NXDOMAIN
        assertThat(zone.lookup(name("other.wild"), Type.MX).kind()).isEqualTo(Answer.Kind.NODATA);
    }

    @Test
    void aWildcardDoesNotApplyAtOrBelowANameThatExists() {
        // host.wild exists: its own data answers, and names below it are not covered by *.wild
        assertThat(records(zone.lookup(name("host.wild"), Type.A).answer()))
                .singleElement()
                .satisfies(r -> assertThat(((ARecord) r).getAddress()).isEqualTo(address("192.0.2.41")));
        assertThat(zone.lookup(name("host.wild"), Type.TXT).kind()).isEqualTo(Answer.Kind.NODATA);
        assertThat(zone.lookup(name("x.host.wild"), Type.A).kind()).isEqualTo(Answer.Kind.NXDOMAIN);
        // ent.wild is an empty non-terminal (a.ent.wild exists): it is not synthesized, nor is anything below it
        assertThat(zone.lookup(name("ent.wild"), Type.A).kind()).isEqualTo(Answer.Kind.NODATA);
        assertThat(zone.lookup(name("x.ent.wild"), Type.A).kind()).isEqualTo(Answer.Kind.NXDOMAIN);
    }

    @Test
    void theWildcardNameItselfAnswersAsWritten() {
        Answer answer = zone.lookup(name("*.wild"), Type.A);
        assertThat(records(answer.answer())).singleElement().extracting(Record::getName).isEqualTo(name("*.wild"));
    }

    @Test
    void aNameAtOrBelowADelegationGetsAReferralWithGlue() {
        for (String asked : List.of("sub", "www.sub", "a.b.sub", "ns1.sub")) {
            Answer answer = zone.lookup(name(asked), Type.A);
            assertThat(answer.kind()).as(asked).isEqualTo(Answer.Kind.REFERRAL);
            assertThat(answer.answer()).as(asked).isEmpty();
            assertThat(answer.authority()).as(asked)
                    .allSatisfy(r -> assertThat(r).isInstanceOf(NSRecord.class))
                    .extracting(r -> ((NSRecord) r).getTarget())
                    .containsExactlyInAnyOrder(name("ns1.sub"), name("ns.elsewhere.example."));
            // glue for the in-zone server only; the other is the resolver's to find
            assertThat(records(answer.additional())).as(asked)
                    .singleElement()
                    .satisfies(r -> {
                        assertThat(r.getName()).isEqualTo(name("ns1.sub"));
                        assertThat(((ARecord) r).getAddress()).isEqualTo(address("192.0.2.53"));
                    });
        }
        // the NS of the child are not authoritative data of this zone either
        assertThat(zone.lookup(name("sub"), Type.NS).kind()).isEqualTo(Answer.Kind.REFERRAL);
    }

    @Test
    void aCnameChainInsideTheZoneIsFollowedToTheEnd() {
        Answer answer = zone.lookup(name("chain1"), Type.A);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER);
        assertThat(records(answer.answer())).extracting(Record::getName, Record::getType).containsExactly(
                org.assertj.core.groups.Tuple.tuple(name("chain1"), Type.CNAME),
                org.assertj.core.groups.Tuple.tuple(name("chain2"), Type.CNAME),
                org.assertj.core.groups.Tuple.tuple(name("mail"), Type.A));
    }

    @Test
    void aCnameIsTheAnswerWhenItIsAskedFor() {
        Answer answer = zone.lookup(name("docs"), Type.CNAME);
        assertThat(records(answer.answer())).singleElement()
                .satisfies(r -> assertThat(((CNAMERecord) r).getTarget()).isEqualTo(name("www")));
    }

    @Test
    void aCnameToANameThatDoesNotExistIsTheChainThenNxdomain() {
        Answer answer = zone.lookup(name("dangling"), Type.A);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER_THEN_NXDOMAIN);
        assertThat(records(answer.answer())).singleElement().extracting(Record::getType).isEqualTo(Type.CNAME);
        assertThat(answer.authority()).singleElement().isInstanceOf(SOARecord.class);
    }

    @Test
    void aCnameToAnotherZoneIsLeftForTheResolver() {
        Answer answer = zone.lookup(name("away"), Type.A);
        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER);
        assertThat(records(answer.answer())).singleElement().extracting(Record::getType).isEqualTo(Type.CNAME);
        assertThat(answer.authority()).isEmpty();
    }

    @Test
    void aCnameLoopEndsAndNamesEachRecordOnce() {
        Answer answer = zone.lookup(name("loop1"), Type.A);

        assertThat(answer.kind()).isEqualTo(Answer.Kind.ANSWER);
        // RFC 2181 5: an RRset has no duplicates, and an answer should not repeat one
        assertThat(records(answer.answer())).extracting(Record::getName).containsExactly(name("loop1"), name("loop2"));
    }

    @Test
    void poolAnswersAreAddressRecordsWithThePoolTtl() {
        Answer a = zone.lookup(name("www"), Type.A);
        assertThat(records(a.answer())).singleElement().satisfies(r -> {
            assertThat(((ARecord) r).getAddress()).isEqualTo(address("192.0.2.10"));
            assertThat(r.getTTL()).as("the pool's 30s, not the zone's 5m").isEqualTo(30);
        });
        Answer aaaa = zone.lookup(name("www"), Type.AAAA);
        assertThat(records(aaaa.answer())).singleElement().satisfies(r -> {
            assertThat(((AAAARecord) r).getAddress()).isEqualTo(address("2001:db8::10"));
            assertThat(r.getTTL()).isEqualTo(30);
        });
        // and a CNAME to the pool ends at them
        assertThat(records(zone.lookup(name("docs"), Type.A).answer())).extracting(Record::getType).containsExactly(Type.CNAME, Type.A);
    }

    @Test
    void aPoolNameWithNothingToAnswerStillExists() {
        // when_all_down: none answers no address: that is NODATA (DnsPool says so), and NXDOMAIN would
        // also deny every other type at the name and (RFC 8020) everything below it
        ZoneSnapshot down = DemoZone.snapshot(DemoZone.zone(), 1, List.of());

        assertThat(down.lookup(name("www"), Type.A).kind()).isEqualTo(Answer.Kind.NODATA);
        assertThat(down.lookup(name("www"), Type.ANY).kind()).isEqualTo(Answer.Kind.NODATA);
        assertThat(down.lookup(name("docs"), Type.A).kind()).as("a CNAME to it is an answer, not NXDOMAIN").isEqualTo(Answer.Kind.ANSWER);
        assertThat(down.lookup(name("x.www"), Type.A).kind()).isEqualTo(Answer.Kind.NXDOMAIN);
    }

    @Test
    void buildsFromRecordSetsMadeInCode() throws Exception {
        DnsPool pool = new DnsPool("p", Duration.ofSeconds(10),
                List.of(new DnsPool.Member("one", "192.0.2.7", null, null, null)), null, null);
        DnsZone zone = new DnsZone("example.test", Duration.ofMinutes(10), null, null, null, null, List.of(
                new DnsRecordSet("@", null, null, null, null, null, null, null, null, null, List.of("ns1"), null),
                new DnsRecordSet("ns1", Duration.ofSeconds(90), List.of("192.0.2.1"), List.of("2001:db8::1"),
                        null, null, null, null, null, null, null, null),
                new DnsRecordSet("_sip._tcp", null, null, null, null, null, null, List.of("0 5 5060 ns1"), null, null, null, null),
                new DnsRecordSet("app", null, null, null, null, null, List.of("say \"hi\" twice"), null, null, null, null, "p")));
        ZoneSnapshot snapshot = ZoneBuilder.build(zone, 7, Map.of("p", pool), p -> List.of(address("192.0.2.7")));
        Name origin = Name.fromString("example.test.");

        assertThat(snapshot.origin()).isEqualTo(origin);
        assertThat(snapshot.serial()).isEqualTo(7);
        assertThat(snapshot.soa().getHost()).as("MNAME defaults to the first apex NS").isEqualTo(Name.fromString("ns1.example.test."));
        assertThat(snapshot.soa().getAdmin()).isEqualTo(Name.fromString("hostmaster.example.test."));
        assertThat(records(snapshot.lookup(Name.fromString("NS1.example.test."), Type.AAAA).answer()))
                .singleElement().extracting(Record::getTTL).isEqualTo(90L);
        Answer srv = snapshot.lookup(Name.fromString("_sip._tcp.example.test."), Type.SRV);
        assertThat(records(srv.answer())).extracting(Record::rdataToString).containsExactly("0 5 5060 ns1.example.test.");
        assertThat(records(srv.additional())).extracting(Record::getType).containsExactlyInAnyOrder(Type.A, Type.AAAA);
        assertThat(zone.recordSet("_sip._tcp")).isPresent();
        Name app = Name.fromString("app.example.test.");
        assertThat(records(snapshot.lookup(app, Type.TXT).answer())).singleElement()
                .satisfies(r -> assertThat(new String(((TXTRecord) r).getStringsAsByteArrays().get(0), java.nio.charset.StandardCharsets.US_ASCII))
                        .as("a TXT value without quotes is taken as written").isEqualTo("say \"hi\" twice"));
        assertThat(records(snapshot.lookup(app, Type.A).answer())).singleElement().extracting(Record::getTTL).isEqualTo(10L);
        // an AXFR body: the SOA first, every record once
        assertThat(snapshot.records().get(0)).isInstanceOf(SOARecord.class);
        assertThat(snapshot.records()).hasSize(snapshot.recordCount());
    }

    private static List<Record> records(List<RRset> sets) {
        List<Record> out = new ArrayList<>();
        for (RRset set : sets) out.addAll(set.rrs(false));
        return out;
    }
}
