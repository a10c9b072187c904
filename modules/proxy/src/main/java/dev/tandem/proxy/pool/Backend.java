package dev.tandem.proxy.pool;

import dev.tandem.config.ProxyPool;
import java.net.InetSocketAddress;

/** One member of one pool as this config version has it, with the state that outlives versions. */
public record Backend(String pool, ProxyPool.Member member, InetSocketAddress address, BackendState state) {
    /** May take a new request: not drained, not failing its checks, not ejected by failed traffic. */
    public boolean usable() {
        return !member.drained() && !state.isActiveDown() && !state.isEjected();
    }

    public String name() {
        return member.name();
    }

    public String site() {
        return member.site();
    }

    /** How the access log and the shell name it: {@code www/site-a}. */
    public String label() {
        return pool + "/" + member.name();
    }
}
