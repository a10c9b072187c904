package dev.tandem.dns.server;

import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;

/** A request's verified TSIG signature: the key it was signed with, and the record to sign the reply against. */
public record Signature(Name keyName, TSIG key, TSIGRecord requestTsig) {
    /** Signs a single-message reply (the reply is signed when it is written to the wire). */
    public void sign(Message reply) {
        reply.setTSIG(key, org.xbill.DNS.Rcode.NOERROR, requestTsig);
    }
}
