package dev.tandem.dns.server;

import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;

/** Building replies: the header a reply shares with its request, and error replies. */
public final class Responses {
    /** The UDP payload size we advertise and accept at most (the 2020 DNS flag day's value: no fragments). */
    public static final int MAX_UDP_PAYLOAD = 1232;

    private Responses() {}

    /** A reply to {@code query}: same ID, opcode and RD; the question echoed as asked (its case kept). */
    public static Message replyTo(Message query) {
        Header in = query.getHeader();
        Message reply = new Message(in.getID());
        Header out = reply.getHeader();
        out.setFlag(Flags.QR);
        out.setOpcode(in.getOpcode());
        if (in.getFlag(Flags.RD)) out.setFlag(Flags.RD);
        if (in.getFlag(Flags.CD)) out.setFlag(Flags.CD);
        Record question = query.getQuestion();
        if (question != null) reply.addRecord(question, Section.QUESTION);
        OPTRecord opt = query.getOPT();
        if (opt != null) {
            // the DO bit is echoed (RFC 3225 3); we sign nothing, so it changes nothing else
            int flags = opt.getFlags() & ExtendedFlags.DO;
            reply.addRecord(new OPTRecord(MAX_UDP_PAYLOAD, 0, 0, flags), Section.ADDITIONAL);
        }
        return reply;
    }

    public static Message error(Message query, int rcode) {
        Message reply = replyTo(query);
        reply.getHeader().setRcode(rcode);
        return reply;
    }

    /**
     * A bare header answering a request we could not parse: its ID and opcode, QR set, no sections
     * (RFC 1035 4.1.1: FORMERR).
     */
    public static byte[] headerOnly(byte[] request, int rcode) {
        byte[] out = new byte[Header.LENGTH];
        out[0] = request[0];
        out[1] = request[1];
        out[2] = (byte) (0x80 | (request[2] & 0x79)); // QR, the request's opcode and RD
        out[3] = (byte) (rcode & 0x0f);
        return out;
    }
}
