package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Duration;
import java.util.List;

/**
 * A failover pool: a name answers with the healthy members of its best priority tier.
 *
 * @param ttl TTL of pool answers (short, so clients move quickly)
 * @param whenAllDown what to answer when no member of any tier is up
 */
public record DnsPool(String name, Duration ttl, List<Member> members, HealthCheck check, WhenAllDown whenAllDown) {
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(30);

    public DnsPool {
        ttl = ttl == null ? DEFAULT_TTL : ttl;
        members = members == null ? List.of() : List.copyOf(members);
        check = check == null ? HealthCheck.DEFAULT : check;
        whenAllDown = whenAllDown == null ? WhenAllDown.TOP_TIER : whenAllDown;
    }

    /**
     * @param priority lower is preferred (default 1); members of the next tier answer only when none of a better one is up
     * @param weight share among up members of a tier (default 1); 0 keeps the member out of answers unless it is the only one
     * @param volume if set, the member answers only while that volume's primary is at the member's site
     */
    public record Member(String name, String address, String site, Integer priority, Integer weight, String volume) {
        public Member {
            priority = priority == null ? 1 : priority;
            weight = weight == null ? 1 : weight;
        }

        public Member(String name, String address, String site, Integer priority, Integer weight) {
            this(name, address, site, priority, weight, null);
        }
    }

    public enum WhenAllDown {
        /** answer with the whole best tier: a client that tries may still get through */
        TOP_TIER,
        /** answer with every member */
        ALL,
        /** answer with no address (NODATA) */
        NONE;

        @JsonValue
        @Override
        public String toString() {
            return name().toLowerCase().replace('_', '-');
        }
    }
}
