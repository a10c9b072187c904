package dev.tandem.dns.xfr;

import static dev.tandem.dns.DemoZone.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import dev.tandem.dns.DemoZone;
import dev.tandem.dns.server.ServedZone;
import dev.tandem.dns.zone.ZoneSnapshot;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/** AXFR and IXFR bodies (RFC 5936, RFC 1995) as the transfer handler writes them. */
class ZoneTransfersTest {
    private static final InetAddress CLIENT = DemoZone.address("127.0.0.1");

    private final DnsZone oldZone = DemoZone.zone();
    private final ZoneSnapshot old = DemoZone.snapshot(oldZone, 41, List.of());

    @Test
    void anIxfrFromAKnownSerialIsTheDifference() throws Exception {
        DnsZone newZone = with(oldZone, "mail", set("mail", null, "192.0.2.26"), set("added", null, "192.0.2.77"));
        ZoneSnapshot now = DemoZone.snapshot(newZone, 42, List.of());
        List<Record> records = transfer(ixfr(41), now, true);

        // new SOA, then old SOA and what went, then new SOA and what came, then new SOA
        List<String> described = records.stream().map(ZoneTransfersTest::describe).toList();
        assertThat(described).hasSize(7);
        assertThat(described.subList(0, 3)).containsExactly("SOA 42", "SOA 41", "mail.demo.test. A 192.0.2.25");
        assertThat(described.get(3)).isEqualTo("SOA 42");
        assertThat(described.subList(4, 6)).containsExactlyInAnyOrder("mail.demo.test. A 192.0.2.26", "added.demo.test. A 192.0.2.77");
        assertThat(described.get(6)).isEqualTo("SOA 42");
    }

    @Test
    void aChangedTtlIsPartOfTheDifference() throws Exception {
        // a secondary keeps what the IXFR tells it: a new TTL must be sent as delete-and-add
        DnsZone newZone = with(oldZone, "mail", set("mail", Duration.ofSeconds(60), "192.0.2.25"));
        ZoneSnapshot now = DemoZone.snapshot(newZone, 42, List.of());
        List<Record> records = transfer(ixfr(41), now, true);

        assertThat(records).extracting(ZoneTransfersTest::describe).containsExactly(
                "SOA 42", "SOA 41", "mail.demo.test. A 192.0.2.25", "SOA 42", "mail.demo.test. A 192.0.2.25", "SOA 42");
        assertThat(records.get(2).getTTL()).isEqualTo(300);
        assertThat(records.get(4).getTTL()).isEqualTo(60);
    }

    @Test
    void anIxfrOverUdpIsTheSoaAlone() throws Exception {
        ZoneSnapshot now = DemoZone.snapshot(oldZone, 42, List.of());
        assertThat(transfer(ixfr(41), now, false)).extracting(ZoneTransfersTest::describe).containsExactly("SOA 42");
    }

    @Test
    void anIxfrWithoutTheClientsSoaIsFormerr() throws Exception {
        ZoneSnapshot now = DemoZone.snapshot(oldZone, 42, List.of());
        Message query = Message.newQuery(Record.newRecord(name("@"), Type.IXFR, DClass.IN));
        assertThat(replies(query, now, true)).singleElement().extracting(ZoneTransfersTest::rcode).isEqualTo(Rcode.FORMERR);
    }

    @Test
    void aTransferOfANameBelowTheApexIsNotauth() throws Exception {
        ZoneSnapshot now = DemoZone.snapshot(oldZone, 42, List.of());
        Message query = Message.newQuery(Record.newRecord(name("www"), Type.AXFR, DClass.IN));
        assertThat(replies(query, now, true)).singleElement().extracting(ZoneTransfersTest::rcode).isEqualTo(Rcode.NOTAUTH);
    }

    @Test
    void aLargeZoneComesInSeveralMessagesOnlyTheFirstWithTheQuestion() throws Exception {
        List<DnsRecordSet> many = new ArrayList<>(oldZone.records());
        IntStream.range(0, 250).forEach(i -> many.add(set("h" + i, null, "198.51.100." + (i % 250))));
        ZoneSnapshot now = DemoZone.snapshot(oldZone.withRecords(many), 42, List.of());
        List<byte[]> replies = replies(Message.newQuery(Record.newRecord(name("@"), Type.AXFR, DClass.IN)), now, true);

        assertThat(replies).hasSizeGreaterThan(3);
        List<Record> records = new ArrayList<>();
        for (int i = 0; i < replies.size(); i++) {
            Message m = new Message(replies.get(i));
            assertThat(m.getSection(Section.QUESTION)).as("message %d", i).hasSize(i == 0 ? 1 : 0);
            records.addAll(m.getSection(Section.ANSWER));
        }
        assertThat(records).hasSize(now.recordCount() + 1);
        assertThat(records.get(0)).isInstanceOf(SOARecord.class);
        assertThat(records.get(records.size() - 1)).isInstanceOf(SOARecord.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "192.0.2.1|192.0.2.1|53",
        "192.0.2.1:5353|192.0.2.1|5353",
        "2001:db8::1|2001:db8::1|53",
        "[2001:db8::1]:5353|2001:db8::1|5353",
        "[2001:db8::1]|2001:db8::1|53",
    })
    void notifyTargets(String target, String address, int port) {
        assertThat(Notifier.parseTarget(target)).isEqualTo(new InetSocketAddress(DemoZone.address(address), port));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ns2.example.org|is not an IP address[:port]",
        "192.0.2.1:0|has a bad port",
        "192.0.2.1:http|has a bad port",
        "[2001:db8::1|missing ]",
        "[2001:db8::1]:99999|has a bad port",
    })
    void badNotifyTargets(String target, String problem) {
        assertThatThrownBy(() -> Notifier.parseTarget(target)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(problem);
    }

    private Message ixfr(long serial) {
        Message query = Message.newQuery(Record.newRecord(name("@"), Type.IXFR, DClass.IN));
        SOARecord soa = old.soa();
        query.addRecord(new SOARecord(soa.getName(), DClass.IN, soa.getTTL(), soa.getHost(), soa.getAdmin(), serial,
                soa.getRefresh(), soa.getRetry(), soa.getExpire(), soa.getMinimum()), Section.AUTHORITY);
        return query;
    }

    private List<Record> transfer(Message query, ZoneSnapshot now, boolean tcp) throws Exception {
        List<Record> records = new ArrayList<>();
        for (byte[] wire : replies(query, now, tcp)) {
            Message m = new Message(wire);
            assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
            records.addAll(m.getSection(Section.ANSWER));
        }
        return records;
    }

    private List<byte[]> replies(Message query, ZoneSnapshot now, boolean tcp) throws Exception {
        ZoneTransfers transfers = new ZoneTransfers(new ZoneTransfers.Source() {
            @Override
            public ZoneSnapshot current(ServedZone zone) {
                return now;
            }

            @Override
            public Optional<ZoneSnapshot> at(ServedZone zone, long serial) {
                return serial == old.serial() ? Optional.of(old) : Optional.empty();
            }
        });
        List<byte[]> out = new ArrayList<>();
        Message parsed = new Message(query.toWire());
        transfers.serve(parsed, new ServedZone(now, oldZone), null, CLIENT, tcp, out::add);
        return out;
    }

    private static int rcode(byte[] wire) {
        return wire[3] & 0x0f;
    }

    private static String describe(Record r) {
        if (r instanceof SOARecord soa) return "SOA " + soa.getSerial();
        return r.getName() + " " + Type.string(r.getType()) + " " + (r instanceof ARecord a ? a.getAddress().getHostAddress() : r.rdataToString());
    }

    private static DnsRecordSet set(String name, Duration ttl, String address) {
        return new DnsRecordSet(name, ttl, List.of(address), null, null, null, null, null, null, null, null, null);
    }

    /** The zone with {@code replaced}'s entry swapped for the first new set, and the others added. */
    private static DnsZone with(DnsZone zone, String replaced, DnsRecordSet... sets) {
        List<DnsRecordSet> records = new ArrayList<>();
        for (DnsRecordSet s : zone.records()) records.add(s.name().equals(replaced) ? sets[0] : s);
        for (int i = 1; i < sets.length; i++) records.add(sets[i]);
        return zone.withRecords(records);
    }
}
