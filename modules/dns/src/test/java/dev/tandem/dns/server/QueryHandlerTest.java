package dev.tandem.dns.server;

import static dev.tandem.dns.DemoZone.name;
import static dev.tandem.dns.server.Junk.query;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.tandem.dns.DemoZone;
import dev.tandem.dns.xfr.ZoneTransfers;
import dev.tandem.dns.zone.ZoneSnapshot;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;

/** One request in, its replies out, as the UDP and TCP servers see it: wire bytes both ways. */
class QueryHandlerTest {
    private static final InetAddress ACL_CLIENT = DemoZone.address("127.0.0.1");
    private static final InetAddress OTHER_CLIENT = DemoZone.address("127.0.0.2");

    /** Built once: a zone from YAML takes milliseconds, and the junk test asks twenty thousand times. */
    private static final ServingState STATE = DemoZone.state();

    private final List<Message> updatesSeen = new ArrayList<>();
    private final QueryHandler handler = new QueryHandler(() -> STATE, new ZoneTransfers(new ZoneTransfers.Source() {
        @Override
        public ZoneSnapshot current(ServedZone zone) {
            return zone.snapshot();
        }

        @Override
        public Optional<ZoneSnapshot> at(ServedZone zone, long serial) {
            return Optional.empty();
        }
    }), (update, zone, signature, client, reply) -> updatesSeen.add(update));

    @Test
    void anAnswerIsAuthoritativeAndKeepsTheSpellingOfTheQuestion() throws Exception {
        Message reply = ask(Message.newQuery(Record.newRecord(org.xbill.DNS.Name.fromString("WwW.DeMo.TeSt."), Type.A, DClass.IN)));

        assertThat(reply.getHeader().getFlag(Flags.QR)).isTrue();
        assertThat(reply.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(reply.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(reply.getQuestion().getName().toString()).isEqualTo("WwW.DeMo.TeSt.");
        assertThat(reply.getSection(Section.ANSWER)).singleElement().satisfies(r -> {
            assertThat(r.getName().toString()).isEqualTo("WwW.DeMo.TeSt.");
            assertThat(((ARecord) r).getAddress()).isEqualTo(DemoZone.address("192.0.2.10"));
        });
    }

    @Test
    void theReplyEchoesIdAndRecursionDesiredButOffersNoRecursion() {
        Message query = query("mail", Type.A);
        query.getHeader().setFlag(Flags.RD);
        Message reply = ask(query);

        assertThat(reply.getHeader().getID()).isEqualTo(query.getHeader().getID());
        assertThat(reply.getHeader().getFlag(Flags.RD)).isTrue();
        assertThat(reply.getHeader().getFlag(Flags.RA)).isFalse();
    }

    @Test
    void negativeAnswersCarryTheSoa() {
        Message nx = ask(query("nope", Type.A));
        assertThat(nx.getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(nx.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(nx.getSection(Section.AUTHORITY)).singleElement().isInstanceOf(SOARecord.class);

        Message nodata = ask(query("mail", Type.AAAA));
        assertThat(nodata.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(nodata.getSection(Section.ANSWER)).isEmpty();
        assertThat(nodata.getSection(Section.AUTHORITY)).singleElement().isInstanceOf(SOARecord.class);

        Message dangling = ask(query("dangling", Type.A));
        assertThat(dangling.getRcode()).as("RFC 6604: the rcode of the last name in the chain").isEqualTo(Rcode.NXDOMAIN);
        assertThat(dangling.getSection(Section.ANSWER)).extracting(Record::getType).containsExactly(Type.CNAME);
    }

    @Test
    void aReferralIsNotAuthoritative() {
        Message reply = ask(query("www.sub", Type.A));
        assertThat(reply.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(reply.getHeader().getFlag(Flags.AA)).isFalse();
        assertThat(reply.getSection(Section.ANSWER)).isEmpty();
        assertThat(reply.getSection(Section.AUTHORITY)).hasSize(2).allMatch(r -> r.getType() == Type.NS);
        assertThat(reply.getSection(Section.ADDITIONAL)).extracting(Record::getName).containsExactly(name("ns1.sub"));
    }

    @Test
    void aNameOutsideOurZonesIsRefused() {
        Message reply = ask(Message.newQuery(Record.newRecord(name("www.example.org."), Type.A, DClass.IN)));
        assertThat(reply.getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(reply.getHeader().getFlag(Flags.AA)).isFalse();
        assertThat(reply.getSection(Section.ANSWER)).isEmpty();
        // a parent of the zone is not ours either
        assertThat(ask(Message.newQuery(Record.newRecord(name("test."), Type.NS, DClass.IN))).getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void anotherClassIsRefused() {
        Message reply = ask(Message.newQuery(Record.newRecord(name("www"), Type.A, DClass.CH)));
        assertThat(reply.getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void aRequestWithoutExactlyOneQuestionIsFormerr() {
        Message none = new Message();
        Message reply = ask(none);
        assertThat(reply.getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(reply.getHeader().getID()).isEqualTo(none.getHeader().getID());

        Message two = query("www", Type.A);
        two.addRecord(Record.newRecord(name("mail"), Type.A, DClass.IN), Section.QUESTION);
        assertThat(ask(two).getRcode()).isEqualTo(Rcode.FORMERR);
    }

    @Test
    void anOpcodeWeDoNotKnowIsNotimp() {
        for (int opcode : new int[] {Opcode.IQUERY, Opcode.STATUS, 3, 6, 15}) {
            Message query = query("www", Type.A);
            query.getHeader().setOpcode(opcode);
            Message reply = ask(query);
            assertThat(reply.getRcode()).as("opcode %d", opcode).isEqualTo(Rcode.NOTIMP);
            assertThat(reply.getHeader().getOpcode()).isEqualTo(opcode);
        }
    }

    @Test
    void anEdnsVersionWeDoNotSpeakIsBadversWithOurOpt() {
        Message query = query("www", Type.A);
        query.addRecord(new OPTRecord(1232, 0, 1), Section.ADDITIONAL);
        Message reply = ask(query);

        assertThat(reply.getRcode()).as("extended rcode 16, split between header and OPT").isEqualTo(Rcode.BADVERS);
        assertThat(reply.getOPT()).isNotNull();
        assertThat(reply.getOPT().getVersion()).isZero();
        assertThat(reply.getSection(Section.ANSWER)).isEmpty();
    }

    @Test
    void anAnswerTooBigForPlainUdpIsTruncated() {
        Message plain = query("big", Type.A);
        byte[] wire = askWire(plain, false);
        Message reply = parse(wire);

        assertThat(wire.length).isLessThanOrEqualTo(512);
        assertThat(reply.getHeader().getFlag(Flags.TC)).isTrue();
        assertThat(reply.getSection(Section.ANSWER)).as("no partial RRset").isEmpty();

        // over TCP the same question gets everything
        Message full = parse(askWire(plain, true));
        assertThat(full.getHeader().getFlag(Flags.TC)).isFalse();
        assertThat(full.getSection(Section.ANSWER)).hasSize(DemoZone.BIG);
    }

    @Test
    void anEdnsPayloadOf1232TakesTheWholeAnswerOverUdp() {
        Message query = query("big", Type.A);
        query.addRecord(new OPTRecord(1232, 0, 0), Section.ADDITIONAL);
        byte[] wire = askWire(query, false);
        Message reply = parse(wire);

        assertThat(wire.length).isGreaterThan(512).isLessThanOrEqualTo(1232);
        assertThat(reply.getHeader().getFlag(Flags.TC)).isFalse();
        assertThat(reply.getSection(Section.ANSWER)).hasSize(DemoZone.BIG);
        assertThat(reply.getOPT()).isNotNull();
        assertThat(reply.getOPT().getPayloadSize()).isEqualTo(1232);

        // a client offering more than 1232 still gets at most that (no fragments)
        Message greedy = query("big", Type.TXT);
        greedy.addRecord(new OPTRecord(4096, 0, 0), Section.ADDITIONAL);
        assertThat(QueryHandler.udpLimit(greedy)).isEqualTo(1232);
        Message stingy = query("big", Type.TXT);
        stingy.addRecord(new OPTRecord(100, 0, 0), Section.ADDITIONAL);
        assertThat(QueryHandler.udpLimit(stingy)).isEqualTo(512);
    }

    @Test
    void aResponseGetsNoReply() {
        Message response = query("www", Type.A);
        response.getHeader().setFlag(Flags.QR);
        assertThat(replies(wire(response), ACL_CLIENT, false)).isEmpty();
    }

    @Test
    void lessThanAHeaderGetsNoReply() {
        assertThat(replies(new byte[] {0x12, 0x34, 0, 0, 0}, ACL_CLIENT, false)).isEmpty();
        assertThat(replies(new byte[0], ACL_CLIENT, false)).isEmpty();
    }

    @Test
    void garbageAfterAValidHeaderIsFormerrWithTheSameId() {
        byte[] request = {0x4a, 0x11, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xff, 0x13, 0x77, 0x01};
        List<byte[]> replies = replies(request, ACL_CLIENT, false);

        assertThat(replies).singleElement().satisfies(reply -> {
            assertThat(reply).hasSize(12);
            assertThat(Junk.id(reply)).isEqualTo(0x4a11);
            assertThat(Junk.isResponse(reply)).isTrue();
            assertThat(reply[2] & 0x01).as("RD echoed").isEqualTo(1);
            assertThat(Junk.rcode(reply)).isEqualTo(Rcode.FORMERR);
        });
    }

    @Test
    void aSelfPointingCompressionPointerIsFormerr() {
        assertThat(replies(Junk.selfPointer(0x0bad), ACL_CLIENT, false)).singleElement().satisfies(reply -> {
            assertThat(Junk.id(reply)).isEqualTo(0x0bad);
            assertThat(Junk.rcode(reply)).isEqualTo(Rcode.FORMERR);
        });
    }

    @Test
    void aTruncatedRequestWithTcSetIsFormerrNotAServerFailure() {
        // dnsjava keeps whatever parsed of a message with TC set; a question that did not parse must
        // still be a FORMERR, not a null question that fails later
        byte[] request = {0x22, 0x22, 0x02, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'};
        assertThat(replies(request, ACL_CLIENT, false)).singleElement()
                .satisfies(reply -> assertThat(Junk.rcode(reply)).isEqualTo(Rcode.FORMERR));
    }

    @Test
    void aSignatureWithAKeyWeDoNotKnowIsNotauthBadkey() {
        Message query = query("www", Type.A);
        query.setTSIG(new TSIG(TSIG.HMAC_SHA256, "nobody.", DemoZone.TRANSFER_SECRET));
        Message reply = ask(query);

        assertThat(reply.getRcode()).isEqualTo(Rcode.NOTAUTH);
        assertThat(reply.getSection(Section.ANSWER)).isEmpty();
        TSIGRecord tsig = reply.getTSIG();
        assertThat(tsig).isNotNull();
        assertThat(tsig.getError()).isEqualTo(Rcode.BADKEY);
        assertThat(tsig.getSignature()).as("unsigned: we cannot sign with a key we lack").isEmpty();
    }

    @Test
    void aBadSignatureWithAKnownKeyIsNotauthBadsig() {
        Message query = query("www", Type.A);
        query.setTSIG(new TSIG(TSIG.HMAC_SHA256, "transfer-key.", DemoZone.UPDATE_SECRET));
        Message reply = ask(query);

        assertThat(reply.getRcode()).isEqualTo(Rcode.NOTAUTH);
        assertThat(reply.getTSIG().getError()).isEqualTo(Rcode.BADSIG);
    }

    @Test
    void aSignedQueryGetsASignedAnswer() {
        Message query = query("mail", Type.A);
        TSIG key = DemoZone.transferKey();
        query.setTSIG(key);
        byte[] request = wire(query);
        byte[] wire = replies(request, ACL_CLIENT, false).get(0);
        Message reply = parse(wire);

        assertThat(reply.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(reply.getSection(Section.ANSWER)).hasSize(1);
        assertThat(key.verify(reply, wire, parse(request).getTSIG())).isEqualTo(Rcode.NOERROR);
    }

    @Test
    void anAxfrOverUdpIsFormerr() {
        Message reply = parse(replies(wire(query("@", Type.AXFR)), ACL_CLIENT, false).get(0));
        assertThat(reply.getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(reply.getSection(Section.ANSWER)).isEmpty();
    }

    @Test
    void anAxfrFromAnAddressNotAllowedIsRefused() {
        List<byte[]> replies = replies(wire(query("@", Type.AXFR)), OTHER_CLIENT, true);
        assertThat(replies).singleElement().satisfies(r -> {
            assertThat(parse(r).getRcode()).isEqualTo(Rcode.REFUSED);
            assertThat(parse(r).getSection(Section.ANSWER)).isEmpty();
        });
    }

    @Test
    void anAxfrFromTheAccessListIsTheZoneBetweenTwoSoas() {
        List<Record> records = transfer(replies(wire(query("@", Type.AXFR)), ACL_CLIENT, true));
        ZoneSnapshot zone = DemoZone.snapshot();

        assertThat(records.get(0)).isInstanceOf(SOARecord.class).isEqualTo(zone.soa());
        assertThat(records.get(records.size() - 1)).isInstanceOf(SOARecord.class);
        assertThat(((SOARecord) records.get(records.size() - 1)).getSerial()).isEqualTo(DemoZone.SERIAL);
        assertThat(records).hasSize(zone.recordCount() + 1);
        assertThat(records.subList(1, records.size() - 1)).doesNotHaveAnyElementsOfTypes(SOARecord.class)
                .containsAll(zone.records().subList(1, zone.records().size()));
    }

    @Test
    void anAxfrSignedWithATransferKeyIsServedAnywhereAndSignedThroughout() throws Exception {
        Message query = query("@", Type.AXFR);
        TSIG key = DemoZone.transferKey();
        query.setTSIG(key);
        byte[] request = wire(query);
        List<byte[]> replies = replies(request, OTHER_CLIENT, true);

        TSIG.StreamVerifier verifier = new TSIG.StreamVerifier(key, parse(request).getTSIG());
        for (int i = 0; i < replies.size(); i++) {
            byte[] wire = replies.get(i);
            assertThat(verifier.verify(parse(wire), wire, i == replies.size() - 1)).as("message %d", i).isEqualTo(Rcode.NOERROR);
        }
        List<Record> records = transfer(replies);
        assertThat(records).hasSize(DemoZone.snapshot().recordCount() + 1);
        assertThat(records.get(records.size() - 1)).isInstanceOf(SOARecord.class);
    }

    @Test
    void anAxfrSignedWithAKeyThatMayNotTransferIsNotauth() {
        Message query = query("@", Type.AXFR);
        query.setTSIG(DemoZone.updateKey());
        assertThat(parse(replies(wire(query), ACL_CLIENT, true).get(0)).getRcode()).isEqualTo(Rcode.NOTAUTH);
    }

    @Test
    void anIxfrFromTheCurrentSerialIsTheSoaAlone() {
        for (boolean tcp : new boolean[] {true, false}) {
            Message query = query("@", Type.IXFR);
            query.addRecord(DemoZone.snapshot().soa(), Section.AUTHORITY);
            List<byte[]> replies = replies(wire(query), ACL_CLIENT, tcp);

            assertThat(replies).as("tcp=%s", tcp).singleElement().satisfies(wire -> {
                Message reply = parse(wire);
                assertThat(reply.getRcode()).isEqualTo(Rcode.NOERROR);
                assertThat(reply.getSection(Section.ANSWER)).singleElement().isInstanceOfSatisfying(SOARecord.class,
                        soa -> assertThat(soa.getSerial()).isEqualTo(DemoZone.SERIAL));
            });
        }
    }

    @Test
    void anIxfrFromASerialWithNoHistoryIsAFullTransfer() throws Exception {
        Message query = query("@", Type.IXFR);
        SOARecord old = DemoZone.snapshot().soa();
        query.addRecord(new SOARecord(old.getName(), DClass.IN, old.getTTL(), old.getHost(), old.getAdmin(), 3,
                old.getRefresh(), old.getRetry(), old.getExpire(), old.getMinimum()), Section.AUTHORITY);
        List<Record> records = transfer(replies(wire(query), ACL_CLIENT, true));

        assertThat(records).hasSize(DemoZone.snapshot().recordCount() + 1);
        assertThat(records.get(0)).isInstanceOf(SOARecord.class);
        assertThat(records.get(1)).as("AXFR form: the second record is data, not the old SOA").isNotInstanceOf(SOARecord.class);
    }

    @Test
    void anUpdateGoesToTheUpdateHandlerOnlyForAZoneApex() {
        org.xbill.DNS.Update update = new org.xbill.DNS.Update(name("@"));
        ask(update, false, 0);
        assertThat(updatesSeen).hasSize(1);

        org.xbill.DNS.Update notApex = new org.xbill.DNS.Update(name("www"));
        Message reply = ask(notApex);
        assertThat(reply.getRcode()).isEqualTo(Rcode.NOTAUTH);
        assertThat(updatesSeen).hasSize(1);
    }

    @Test
    void aNotifyIsRefused() {
        Message notify = query("@", Type.SOA);
        notify.getHeader().setOpcode(Opcode.NOTIFY);
        assertThat(ask(notify).getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void metaTypesInTheQuestionAreRejected() {
        assertThat(ask(query("www", Type.OPT)).getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(ask(query("www", Type.TSIG)).getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(ask(query("www", Type.MAILB)).getRcode()).isEqualTo(Rcode.NOTIMP);
    }

    @Test
    void junkNeverCausesAServerFailureAndEveryReplyParses() {
        // the same corpus the robustness test sends over the network, here without the network, so
        // that every single reply can be checked: an internal error shows up as SERVFAIL
        Random random = new Random(20240611);
        List<byte[]> seeds = Junk.seeds();
        int answered = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] request = Junk.next(random, seeds, 65535);
            boolean tcp = random.nextBoolean();
            List<byte[]> replies;
            try {
                replies = replies(request, random.nextBoolean() ? ACL_CLIENT : OTHER_CLIENT, tcp);
            } catch (RuntimeException e) {
                throw new AssertionError("request " + i + " threw: " + hex(request), e);
            }
            if (request.length < 12 || Junk.isResponse(request)) {
                assertThat(replies).as("request %d: %s", i, hex(request)).isEmpty();
                continue;
            }
            for (byte[] reply : replies) {
                answered++;
                if (reply.length < 12 || Junk.id(reply) != Junk.id(request) || !Junk.isResponse(reply)) {
                    fail("request %d got a reply that is not a response to it: %s -> %s", i, hex(request), hex(reply));
                }
                if (Junk.rcode(reply) == Rcode.SERVFAIL) fail("request %d: SERVFAIL for %s", i, hex(request));
                if (!tcp && reply.length > 1232) fail("request %d: a UDP reply of %d bytes", i, reply.length);
                try {
                    new Message(reply);
                } catch (Exception e) {
                    throw new AssertionError("request " + i + ": the reply does not parse: " + hex(reply), e);
                }
            }
        }
        assertThat(answered).as("most junk still gets an error reply").isGreaterThan(10_000);
    }

    @Test
    void aCachedAnswerIsByteForByteWhatTheFullPathGives() throws Exception {
        // the answer cache copies an earlier reply and patches ID, RD, CD and the asker's spelling of the
        // name: for any plain question, that must equal what a handler with an empty cache makes of it
        Random random = new Random(7);
        String[] names = {"www", "mail", "docs", "chain1", "dangling", "nope", "x.wild", "ent.wild", "a.b.deep", "deep", "sub",
            "www.sub", "@", "big", "loop1", "away", "ns-a"};
        int[] types = {Type.A, Type.AAAA, Type.MX, Type.TXT, Type.NS, Type.SOA, Type.CNAME, Type.DS, Type.SRV, Type.CAA};
        for (int i = 0; i < 3000; i++) {
            Message query = Message.newQuery(Record.newRecord(name(mixedCase(random, names[random.nextInt(names.length)])),
                    types[random.nextInt(types.length)], DClass.IN));
            query.getHeader().setID(random.nextInt(0x10000));
            if (random.nextBoolean()) query.getHeader().unsetFlag(Flags.RD);
            if (random.nextInt(4) == 0) query.getHeader().setFlag(Flags.CD);
            switch (random.nextInt(4)) {
                case 0 -> query.addRecord(new OPTRecord(1232, 0, 0), Section.ADDITIONAL);
                case 1 -> query.addRecord(new OPTRecord(random.nextInt(5000), 0, 0, random.nextBoolean() ? org.xbill.DNS.ExtendedFlags.DO : 0),
                        Section.ADDITIONAL);
                default -> {
                    // no EDNS
                }
            }
            byte[] request = wire(query);
            boolean tcp = random.nextInt(4) == 0;
            List<byte[]> warm = replies(request, ACL_CLIENT, tcp);
            List<byte[]> cold = new ArrayList<>();
            new QueryHandler(() -> STATE, null, null).handle(request, ACL_CLIENT, tcp, cold::add);

            assertThat(warm).as("%s tcp=%s", query.getQuestion(), tcp).hasSize(1);
            assertThat(warm.get(0)).as("question %d: %s tcp=%s\nwarm %s\ncold %s", i, query.getQuestion(), tcp,
                    hex(warm.get(0)), hex(cold.get(0))).isEqualTo(cold.get(0));
        }
    }

    private static String mixedCase(Random random, String name) {
        StringBuilder out = new StringBuilder();
        for (char c : name.toCharArray()) out.append(random.nextBoolean() ? Character.toUpperCase(c) : c);
        return out.toString();
    }

    private Message ask(Message query) {
        return ask(query, false, 1);
    }

    private Message ask(Message query, boolean tcp, int expectedReplies) {
        List<byte[]> replies = replies(wire(query), ACL_CLIENT, tcp);
        assertThat(replies).hasSize(expectedReplies);
        return expectedReplies == 0 ? null : parse(replies.get(0));
    }

    private byte[] askWire(Message query, boolean tcp) {
        List<byte[]> replies = replies(wire(query), ACL_CLIENT, tcp);
        assertThat(replies).hasSize(1);
        return replies.get(0);
    }

    private List<byte[]> replies(byte[] request, InetAddress client, boolean tcp) {
        List<byte[]> out = new ArrayList<>();
        handler.handle(request, client, tcp, out::add);
        return out;
    }

    /** The request on the wire, signed if it has a key (dnsjava's toWire() without a length does not sign). */
    static byte[] wire(Message m) {
        return m.toWire(Message.MAXLENGTH);
    }

    private static List<Record> transfer(List<byte[]> replies) {
        List<Record> records = new ArrayList<>();
        for (byte[] wire : replies) {
            Message m = parse(wire);
            assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
            assertThat(m.getHeader().getFlag(Flags.AA)).isTrue();
            records.addAll(m.getSection(Section.ANSWER));
        }
        return records;
    }

    private static Message parse(byte[] wire) {
        try {
            return new Message(wire);
        } catch (Exception e) {
            throw new AssertionError("the reply does not parse: " + hex(wire), e);
        }
    }

    static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, 96); i++) out.append(String.format("%02x", bytes[i]));
        return bytes.length > 96 ? out + "...(" + bytes.length + " bytes)" : out.toString();
    }
}
