// The RFC 4575 §6 example documents, as the RFC prints them, and helpers for small ones.

/** RFC 4575 §6: the basic example, a full-state document. */
export const RFC4575_BASIC = `<?xml version="1.0" encoding="UTF-8"?>
<conference-info
    xmlns="urn:ietf:params:xml:ns:conference-info"
    entity="sips:conf233@example.com"
    state="full" version="1">
  <!--
    CONFERENCE INFO
  -->
  <conference-description>
    <subject>Agenda: This month's goals</subject>
    <service-uris>
      <entry>
        <uri>http://sharepoint/salesgroup/</uri>
        <purpose>web-page</purpose>
      </entry>
    </service-uris>
  </conference-description>
  <!--
    CONFERENCE STATE
  -->
  <conference-state>
    <user-count>33</user-count>
  </conference-state>
  <!--
    USERS
  -->
  <users>
    <user entity="sip:bob@example.com" state="full">
      <display-text>Bob Hoskins</display-text>
      <!--
        ENDPOINTS
      -->
      <endpoint entity="sip:bob@pc33.example.com">
        <display-text>Bob's Laptop</display-text>
        <status>disconnected</status>
        <disconnection-method>departed</disconnection-method>
        <disconnection-info>
          <when>2005-03-04T20:00:00Z</when>
          <reason>bad voice quality</reason>
          <by>sip:mike@example.com</by>
        </disconnection-info>
        <!--
          MEDIA
        -->
        <media id="1">
          <display-text>main audio</display-text>
          <type>audio</type>
          <label>34567</label>
          <src-id>432424</src-id>
          <status>sendrecv</status>
        </media>
      </endpoint>
    </user>
    <!--
      USER
    -->
    <user entity="sip:alice@example.com" state="full">
      <display-text>Alice</display-text>
      <!--
        ENDPOINTS
      -->
      <endpoint entity="sip:4kfk4j392jsu@example.com;grid=433kj4j3u">
        <status>connected</status>
        <joining-method>dialed-out</joining-method>
        <joining-info>
          <when>2005-03-04T20:00:00Z</when>
          <by>sip:mike@example.com</by>
        </joining-info>
        <!--
          MEDIA
        -->
        <media id="1">
          <display-text>main audio</display-text>
          <type>audio</type>
          <label>34567</label>
          <src-id>534232</src-id>
          <status>sendrecv</status>
        </media>
      </endpoint>
    </user>
  </users>
</conference-info>
`;

/** RFC 4575 §6: the rich example, a partial-state document at version 5. */
export const RFC4575_RICH = `<?xml version="1.0" encoding="UTF-8"?>
<conference-info
    xmlns="urn:ietf:params:xml:ns:conference-info"
    entity="sips:conf233@example.com"
    state="partial"
    version="5">
  <!--
    CONFERENCE INFO
  -->
  <conference-description>
    <display-text>Weekly Sales Meeting</display-text>
    <subject>Agenda: This month's goals</subject>
    <free-text>We will start strict on time</free-text>
    <keywords>sales meeting weekly</keywords>
    <conf-uris>
      <entry>
        <uri>tel:+18005671234</uri>
        <display-text>TTI Bridge</display-text>
        <purpose>participation</purpose>
      </entry>
      <entry>
        <uri>h323:conf545@h323.example.com</uri>
        <purpose>participation</purpose>
      </entry>
      <entry>
        <uri>http://real.streaming.com/54634/live.ram</uri>
        <purpose>streaming</purpose>
      </entry>
    </conf-uris>
    <service-uris>
      <entry>
        <uri>http://sharepoint/salesgroup/</uri>
        <purpose>web-page</purpose>
      </entry>
      <entry>
        <uri>http://quicktime.com/54634/recording.mov</uri>
        <display-text>Quicktime</display-text>
        <purpose>recording</purpose>
      </entry>
    </service-uris>
    <maximum-user-count>100</maximum-user-count>
    <available-media>
      <entry label="34567">
        <display-text>main audio</display-text>
        <type>audio</type>
        <status>sendrecv</status>
      </entry>
      <entry label="34569">
        <display-text>main video</display-text>
        <type>video</type>
        <status>inactive</status>
      </entry>
    </available-media>
  </conference-description>
  <!--
    HOST INFO
  -->
  <host-info>
    <display-text>Sales Host</display-text>
    <web-page>http://sharepoint/salesgroup/hosts/</web-page>
    <uris>
      <entry>
        <uri>sip:sales@example.com</uri>
      </entry>
    </uris>
  </host-info>
  <!--
    CONFERENCE STATE
  -->
  <conference-state>
    <user-count>32</user-count>
    <active>true</active>
    <locked>false</locked>
  </conference-state>
  <!--
    USERS
  -->
  <users>
    <user entity="sip:bob@example.com">
      <display-text>Bob Hoskins</display-text>
      <associated-aors>
        <entry>
          <uri>mailto:bob@example.com</uri>
          <display-text>email</display-text>
        </entry>
      </associated-aors>
      <roles>
        <entry>participant</entry>
      </roles>
      <languages>en</languages>
      <!--
        ENDPOINTS
      -->
      <endpoint entity="sip:bob@pc33.example.com">
        <display-text>Bob's Laptop</display-text>
        <referred>
          <when>2005-03-04T20:00:00Z</when>
          <reason>expert required</reason>
          <by>sip:mike@example.com</by>
        </referred>
        <status>disconnecting</status>
        <joining-method>dialed-out</joining-method>
        <joining-info>
          <when>2005-03-04T20:00:00Z</when>
          <reason>invitation</reason>
          <by>sip:mike@example.com</by>
        </joining-info>
        <disconnection-method>booted</disconnection-method>
        <disconnection-info>
          <when>2005-03-04T20:00:00Z</when>
          <reason>bad voice quality</reason>
          <by>sip:mike@example.com</by>
        </disconnection-info>
        <!--
          MEDIA
        -->
        <media id="1">
          <display-text>main audio</display-text>
          <type>audio</type>
          <label>34567</label>
          <src-id>432424</src-id>
          <status>sendrecv</status>
        </media>
        <!--
          CALL INFO
        -->
        <call-info>
          <sip>
            <display-text>full info</display-text>
            <call-id>hsjh8980vhsb78</call-id>
            <from-tag>vav738dvbs</from-tag>
            <to-tag>8954jgjg8432</to-tag>
          </sip>
        </call-info>
      </endpoint>
    </user>
  </users>
  <!--
    SIDEBARS BY REFERENCE
  -->
  <sidebars-by-ref state="partial">
    <entry>
      <uri>sips:conf233@example.com;grid=45</uri>
      <display-text>sidebar with Carol</display-text>
    </entry>
    <entry>
      <uri>sips:conf233@example.com;grid=21</uri>
      <display-text>private with Peter</display-text>
    </entry>
  </sidebars-by-ref>
  <!--
    SIDEBARS BY VALUE
  -->
  <sidebars-by-val state="partial">
    <entry entity="sips:conf233@example.com;grid=77" state="partial">
      <users>
        <user entity="sip:bob@example.com"/>
        <user entity="sip:mark@example.com"/>
        <user entity="sip:dan@example.com"/>
      </users>
    </entry>
  </sidebars-by-val>
</conference-info>
`;

export const CONF = 'sips:conf233@example.com';

/** A conference-info document around `users` (the inner XML of <users>). */
export function doc(version: number, state: 'full' | 'partial' | 'deleted', users: string, usersState?: 'full' | 'partial' | 'deleted'): string {
  const us = usersState ? ` state="${usersState}"` : '';
  return `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${CONF}" state="${state}" version="${version}"><users${us}>${users}</users></conference-info>`;
}

/** A user with one endpoint in `status`, plus optional extra endpoint XML. */
export function user(name: string, status: string | undefined, opts: { state?: string; epState?: string; extra?: string; display?: string } = {}): string {
  const st = opts.state ? ` state="${opts.state}"` : '';
  const eps = opts.epState ? ` state="${opts.epState}"` : '';
  const display = opts.display !== undefined ? `<display-text>${opts.display}</display-text>` : '';
  const statusXml = status !== undefined ? `<status>${status}</status>` : '';
  return `<user entity="sip:${name}@example.com"${st}>${display}<endpoint entity="sip:${name}@pc.example.com"${eps}>${statusXml}${opts.extra ?? ''}</endpoint></user>`;
}
