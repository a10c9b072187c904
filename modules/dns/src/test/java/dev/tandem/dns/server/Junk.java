package dev.tandem.dns.server;

import dev.tandem.dns.DemoZone;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * Requests a hostile or broken client might send: random bytes, and valid requests bent in the ways
 * that break parsers (bit flips, cuts, lying counts, bad labels, compression loops, odd opcodes,
 * classes and types, EDNS versions). From a seeded {@link Random}, so a failure can be replayed.
 */
final class Junk {
    private Junk() {}

    /** Well-formed requests of every kind the server handles, to mutate. */
    static List<byte[]> seeds() {
        List<byte[]> out = new ArrayList<>();
        try {
            out.add(query("www", Type.A).toWire());
            out.add(query("@", Type.MX).toWire());
            out.add(query("x.wild", Type.TXT).toWire());
            out.add(query("a.b.sub", Type.A).toWire());
            out.add(query("@", Type.AXFR).toWire());
            Message ixfr = query("@", Type.IXFR);
            ixfr.addRecord(DemoZone.snapshot().soa(), Section.AUTHORITY);
            out.add(ixfr.toWire());
            Message edns = query("big", Type.A);
            edns.addRecord(new OPTRecord(1232, 0, 0), Section.ADDITIONAL);
            out.add(edns.toWire());
            Message signed = query("@", Type.SOA);
            signed.setTSIG(DemoZone.transferKey());
            out.add(signed.toWire(Message.MAXLENGTH)); // toWire() without a length does not sign
            Update update = new Update(DemoZone.name("@"));
            update.add(DemoZone.name("new"), Type.A, 300, "192.0.2.9");
            update.setTSIG(DemoZone.updateKey());
            out.add(update.toWire(Message.MAXLENGTH));
            Message notify = query("@", Type.SOA);
            notify.getHeader().setOpcode(Opcode.NOTIFY);
            out.add(notify.toWire());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    static Message query(String name, int type) {
        return Message.newQuery(Record.newRecord(DemoZone.name(name), type, DClass.IN));
    }

    /** One bad request; about a tenth purely random, the rest a mutated seed. */
    static byte[] next(Random random, List<byte[]> seeds, int maxLength) {
        byte[] seed = seeds.get(random.nextInt(seeds.size()));
        byte[] p = seed.clone();
        switch (random.nextInt(13)) {
            case 0 -> p = bytes(random, random.nextInt(Math.min(600, maxLength) + 1));
            case 1 -> {
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) p[random.nextInt(p.length)] ^= (byte) (1 << random.nextInt(8));
            }
            case 2 -> p = Arrays.copyOf(p, random.nextInt(p.length));
            case 3 -> {
                // counts that lie: small, zero, or the most a header can say
                for (int section = 0; section < 4; section++) {
                    if (random.nextBoolean()) setU16(p, 4 + 2 * section, random.nextBoolean() ? 0xffff : random.nextInt(4));
                }
            }
            case 4 -> p[12] = (byte) (64 + random.nextInt(192)); // a label length over 63, or a reserved label type
            case 5 -> p = compressionTrap(random, p);
            case 6 -> p[2] = (byte) ((p[2] & 0x87) | ((3 + random.nextInt(13)) << 3)); // an opcode we do not know
            case 7 -> {
                // the question's type and class, after its name: unknown, meta or odd values
                int end = questionEnd(p);
                if (end > 0) {
                    int[] odd = {0, 255, 254, 251, 252, 41, 250, 249, 65535, 3, 4, 254, random.nextInt(65536)};
                    setU16(p, end - 4, odd[random.nextInt(odd.length)]);
                    if (random.nextBoolean()) setU16(p, end - 2, odd[random.nextInt(odd.length)]);
                }
            }
            case 8 -> {
                Message m = query("www", Type.A);
                int version = random.nextInt(3);
                m.addRecord(new OPTRecord(random.nextInt(65536), random.nextInt(256), version, random.nextInt(65536)), Section.ADDITIONAL);
                if (random.nextInt(4) == 0) m.addRecord(new OPTRecord(512, 0, 0), Section.ADDITIONAL); // two OPTs
                p = m.toWire();
            }
            case 9 -> {
                // a valid start, then garbage, with the counts left as they were
                byte[] tail = bytes(random, random.nextInt(200));
                p = Arrays.copyOf(seed, seed.length + tail.length);
                System.arraycopy(tail, 0, p, seed.length, tail.length);
            }
            case 10 -> {
                // TC set on a request cut short: a parser may then accept half a message
                p = Arrays.copyOf(p, Math.max(12, random.nextInt(p.length)));
                p[2] |= 0x02;
            }
            case 11 -> p[2] |= (byte) 0x80; // a response: must be dropped
            default -> {
                // a valid header on random sections
                byte[] tail = bytes(random, random.nextInt(300));
                p = Arrays.copyOf(seed, 12 + tail.length);
                System.arraycopy(tail, 0, p, 12, tail.length);
            }
        }
        if (p.length >= 2 && random.nextInt(8) == 0) p[random.nextInt(2)] ^= (byte) random.nextInt(256); // another ID
        return p.length > maxLength ? Arrays.copyOf(p, maxLength) : p;
    }

    /** A question name that is a compression pointer to itself, or a pointer loop, or a pointer past the end. */
    static byte[] compressionTrap(Random random, byte[] valid) {
        byte[] header = Arrays.copyOf(valid, 12);
        setU16(header, 4, 1);
        for (int i = 6; i < 12; i++) header[i] = 0;
        byte[] name = switch (random.nextInt(5)) {
            case 0 -> new byte[] {(byte) 0xc0, 0x0c}; // points at itself
            case 1 -> new byte[] {(byte) 0xc0, 0x0e, (byte) 0xc0, 0x0c}; // two pointers at each other
            case 2 -> new byte[] {1, 'a', (byte) 0xc0, 0x0c}; // a label, then back to its start
            case 3 -> new byte[] {(byte) 0xc0, (byte) 0xff}; // past the end
            default -> new byte[] {(byte) 0xc0, 0x02}; // into the header
        };
        byte[] out = Arrays.copyOf(header, 12 + name.length + 4);
        System.arraycopy(name, 0, out, 12, name.length);
        setU16(out, 12 + name.length, Type.A);
        setU16(out, 14 + name.length, DClass.IN);
        return out;
    }

    static byte[] selfPointer(int id) {
        byte[] query = query("www", Type.A).toWire();
        setU16(query, 0, id);
        byte[] out = Arrays.copyOf(query, 18);
        out[12] = (byte) 0xc0;
        out[13] = 0x0c;
        setU16(out, 14, Type.A);
        setU16(out, 16, DClass.IN);
        setU16(out, 4, 1);
        for (int i = 6; i < 12; i++) out[i] = 0;
        return out;
    }

    static boolean isResponse(byte[] p) {
        return p.length > 2 && (p[2] & 0x80) != 0;
    }

    static int id(byte[] p) {
        return ((p[0] & 0xff) << 8) | (p[1] & 0xff);
    }

    static int rcode(byte[] reply) {
        return reply[3] & 0x0f;
    }

    static boolean tc(byte[] reply) {
        return (reply[2] & 0x02) != 0;
    }

    /** Where the first question's name, type and class end, for an uncompressed name; -1 if not found. */
    private static int questionEnd(byte[] p) {
        int i = 12;
        while (i < p.length && p[i] != 0) {
            if ((p[i] & 0xc0) != 0) return -1;
            i += (p[i] & 0xff) + 1;
        }
        return i + 5 <= p.length ? i + 5 : -1;
    }

    static byte[] bytes(Random random, int length) {
        byte[] out = new byte[length];
        random.nextBytes(out);
        return out;
    }

    static void setU16(byte[] p, int at, int value) {
        if (at + 1 >= p.length) return;
        p[at] = (byte) (value >>> 8);
        p[at + 1] = (byte) value;
    }
}
