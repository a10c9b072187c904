package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Duration;
import java.util.List;

/**
 * Backends one route leads to. Each proxy sends to healthy members of its own site first, and to
 * other sites' members (in {@code proxy.site_preference} order) only when none of its own is healthy.
 */
public record ProxyPool(String name, Balance balance, List<Member> members, Check check, Passive passive) {
    public ProxyPool {
        balance = balance == null ? Balance.LEAST_REQUESTS : balance;
        members = members == null ? List.of() : List.copyOf(members);
        check = check == null ? new Check(null, null, null, null, null, null, null) : check;
        passive = passive == null ? new Passive(null, null) : passive;
    }

    /**
     * @param address {@code host:port} ({@code [v6]:port} for IPv6)
     * @param weight share of requests among healthy members of a site (default 1)
     * @param drained true: no new requests; those in flight finish ({@code proxy drain})
     * @param volume if set, the member is used only while that volume's primary is at the member's site
     */
    public ProxyPool withMember(Member member) {
        List<Member> next = members.stream().map(m -> m.name().equals(member.name()) ? member : m).toList();
        return new ProxyPool(name, balance, next, check, passive);
    }

    public record Member(String name, String address, String site, Integer weight, Boolean drained, String volume) {
        public Member {
            weight = weight == null ? 1 : weight;
            drained = drained != null && drained;
        }

        public Member(String name, String address, String site, Integer weight, Boolean drained) {
            this(name, address, site, weight, drained, null);
        }

        public Member withDrained(boolean value) {
            return new Member(name, address, site, weight, value, volume);
        }
    }

    /** An HTTP GET each proxy node sends to each member on a fresh connection. */
    public record Check(Boolean enabled, String path, Integer expectStatus, Duration interval, Duration timeout, Integer fall, Integer rise) {
        public Check {
            enabled = enabled == null || enabled;
            path = path == null ? "/" : path;
            expectStatus = expectStatus == null ? 200 : expectStatus;
            interval = interval == null ? Duration.ofSeconds(2) : interval;
            timeout = timeout == null ? Duration.ofSeconds(1) : timeout;
            fall = fall == null ? 2 : fall;
            rise = rise == null ? 2 : rise;
        }
    }

    /**
     * Checks by real traffic: {@code failures} consecutive failed connections or 5xx replies eject a
     * member for {@code eject} (0 failures: off).
     */
    public record Passive(Integer failures, Duration eject) {
        public Passive {
            failures = failures == null ? 3 : failures;
            eject = eject == null ? Duration.ofSeconds(10) : eject;
        }
    }

    public enum Balance {
        /** the member with the fewest requests in flight for its weight */
        LEAST_REQUESTS,
        /** each member in turn, as often as its weight says */
        ROUND_ROBIN;

        @JsonValue
        @Override
        public String toString() {
            return name().toLowerCase().replace('_', '-');
        }
    }
}
