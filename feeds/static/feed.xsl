<?xml version="1.0" encoding="utf-8"?>
<!--
  Shows an Atom or RSS 2.0 feed of this service as a page when a browser opens it: the feeds
  name this file in an <?xml-stylesheet?> processing instruction (feeds/render.py); feed
  readers ignore it.

  Everything from the feed is written with xsl:value-of or attribute value templates, so the
  XSLT processor escapes it; disable-output-escaping is never used. Entry HTML content is not
  shown: the plain-text summary is. Links from the feed are written only when they are http(s)
  URLs or site-relative paths.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">

  <xsl:output method="html" encoding="utf-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="channel" select="/rss/channel"/>
  <xsl:variable name="feed" select="/atom:feed"/>
  <xsl:variable name="is-atom" select="boolean($feed)"/>
  <xsl:variable name="title" select="normalize-space($feed/atom:title | $channel/title)"/>
  <xsl:variable name="subtitle" select="normalize-space($feed/atom:subtitle | $channel/description)"/>
  <xsl:variable name="self"
      select="($feed/atom:link[@rel='self'] | $channel/atom:link[@rel='self'])[1]/@href"/>
  <xsl:variable name="home"
      select="($feed/atom:link[@rel='alternate'] | $channel/atom:link[@rel='alternate'])[1]/@href
              | $channel/link[not($feed/atom:link[@rel='alternate'])]"/>
  <xsl:variable name="lang">
    <xsl:choose>
      <xsl:when test="$feed/@xml:lang"><xsl:value-of select="$feed/@xml:lang"/></xsl:when>
      <xsl:when test="$channel/language"><xsl:value-of select="$channel/language"/></xsl:when>
      <xsl:otherwise>en</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <xsl:variable name="format">
    <xsl:choose>
      <xsl:when test="$is-atom">Atom</xsl:when>
      <xsl:otherwise>RSS</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (<xsl:value-of select="$format"/> feed)</title>
        <link rel="icon" href="/static/icon.png"/>
        <link rel="stylesheet" href="/static/site.css"/>
        <script src="/static/pages.js" defer="defer"></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to the items</a>
        <header class="site-header">
          <a class="brand" href="/">gov.kz news feeds</a>
          <nav aria-label="Site">
            <ul>
              <li><a href="/">All feeds</a></li>
              <xsl:if test="$home">
                <li>
                  <xsl:call-template name="link">
                    <xsl:with-param name="href" select="string($home)"/>
                    <xsl:with-param name="text">This feed as a web page</xsl:with-param>
                  </xsl:call-template>
                </li>
              </xsl:if>
            </ul>
          </nav>
        </header>
        <div class="feed-banner" id="feed-banner" role="note" aria-label="About this page">
          <p><strong>This is a feed.</strong> Copy this URL into your feed reader:</p>
          <div class="subscribe">
            <span class="feed-url">
              <span class="visually-hidden">Feed URL: </span>
              <code id="feed-url"><xsl:value-of select="$self"/></code>
            </span>
            <button type="button" class="btn secondary" data-copy="{$self}" hidden="hidden">Copy URL</button>
          </div>
          <p class="meta">Your browser shows it here through a stylesheet; a feed reader
            (<xsl:value-of select="$format"/>) checks it for new items on its own.</p>
        </div>
        <main id="main" tabindex="-1">
          <h1 lang="{$lang}"><xsl:value-of select="$title"/></h1>
          <xsl:if test="$subtitle">
            <p class="lead" lang="{$lang}">
              <xsl:call-template name="description-text">
                <xsl:with-param name="text" select="$subtitle"/>
              </xsl:call-template>
            </p>
          </xsl:if>
          <section class="items" aria-label="Items">
            <xsl:apply-templates select="$feed/atom:entry | $channel/item"/>
            <xsl:if test="not($feed/atom:entry | $channel/item)">
              <p>No items yet.</p>
            </xsl:if>
          </section>
          <xsl:call-template name="pager"/>
        </main>
        <footer class="site-footer">
          <p>Press releases of Kazakhstan's government agencies, published on gov.kz.</p>
        </footer>
        <p id="announce" class="visually-hidden" role="status" aria-live="polite"></p>
      </body>
    </html>
  </xsl:template>

  <!-- Atom entry -->
  <xsl:template match="atom:entry">
    <xsl:variable name="item-lang">
      <xsl:choose>
        <xsl:when test="@xml:lang"><xsl:value-of select="@xml:lang"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$lang"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="link"
        select="(atom:link[@rel='alternate' or not(@rel)])[1]/@href"/>
    <article class="item" lang="{$item-lang}">
      <h2>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="string($link)"/>
          <xsl:with-param name="text" select="normalize-space(atom:title)"/>
        </xsl:call-template>
      </h2>
      <p class="meta" lang="en">
        <xsl:call-template name="iso-day">
          <xsl:with-param name="when" select="(atom:published | atom:updated)[1]"/>
        </xsl:call-template>
        <xsl:if test="atom:author/atom:name">
          <xsl:text> · </xsl:text>
          <span lang="{$item-lang}"><xsl:value-of select="atom:author/atom:name"/></span>
        </xsl:if>
        <xsl:if test="atom:category">
          <xsl:text> · </xsl:text>
          <xsl:for-each select="atom:category">
            <xsl:choose>
              <xsl:when test="@label"><xsl:value-of select="@label"/></xsl:when>
              <xsl:otherwise><xsl:value-of select="@term"/></xsl:otherwise>
            </xsl:choose>
            <xsl:if test="position() != last()">, </xsl:if>
          </xsl:for-each>
        </xsl:if>
      </p>
      <xsl:if test="normalize-space(atom:summary)">
        <p><xsl:value-of select="atom:summary"/></p>
      </xsl:if>
    </article>
  </xsl:template>

  <!-- RSS 2.0 item: its language is the channel's, unknown (lang="") without one -->
  <xsl:template match="item">
    <article class="item" lang="{$channel/language}">
      <h2>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="string(link)"/>
          <xsl:with-param name="text" select="normalize-space(title)"/>
        </xsl:call-template>
      </h2>
      <p class="meta" lang="en">
        <xsl:if test="pubDate">
          <!-- RFC 822: "Sat, 10 Jan 2026 00:00:00 +0500" -> "10 Jan 2026" -->
          <time><xsl:value-of select="substring(normalize-space(pubDate), 6, 11)"/></time>
        </xsl:if>
        <xsl:if test="category">
          <xsl:text> · </xsl:text>
          <xsl:for-each select="category">
            <xsl:value-of select="."/>
            <xsl:if test="position() != last()">, </xsl:if>
          </xsl:for-each>
        </xsl:if>
      </p>
      <xsl:if test="normalize-space(description)">
        <p>
          <xsl:call-template name="description-text">
            <xsl:with-param name="text" select="string(description)"/>
          </xsl:call-template>
        </p>
      </xsl:if>
    </article>
  </xsl:template>

  <!-- Older / Newer: RFC 5005 links of either format -->
  <xsl:template name="pager">
    <xsl:variable name="links" select="$feed/atom:link | $channel/atom:link"/>
    <xsl:if test="$links[@rel='previous' or @rel='next']">
      <nav class="pager" aria-label="Pages">
        <ul>
          <xsl:if test="$links[@rel='previous']">
            <li>
              <xsl:call-template name="link">
                <xsl:with-param name="href" select="string($links[@rel='previous'][1]/@href)"/>
                <xsl:with-param name="text">← Newer</xsl:with-param>
                <xsl:with-param name="rel">prev</xsl:with-param>
              </xsl:call-template>
            </li>
          </xsl:if>
          <xsl:if test="$links[@rel='next']">
            <li>
              <xsl:call-template name="link">
                <xsl:with-param name="href" select="string($links[@rel='next'][1]/@href)"/>
                <xsl:with-param name="text">Older →</xsl:with-param>
                <xsl:with-param name="rel">next</xsl:with-param>
              </xsl:call-template>
            </li>
          </xsl:if>
        </ul>
      </nav>
    </xsl:if>
  </xsl:template>

  <!-- The words of a subtitle or summary. RSS descriptions are HTML, and feeds/render.py
       writes plain text there HTML-escaped: its &lt; &gt; &amp; are turned back into the
       characters they stand for, which xsl:value-of then writes as text, never as markup. -->
  <xsl:template name="description-text">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="$is-atom"><xsl:value-of select="$text"/></xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="unescape">
          <xsl:with-param name="html" select="$text"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="unescape">
    <xsl:param name="html"/>
    <xsl:choose>
      <xsl:when test="contains($html, '&amp;')">
        <xsl:value-of select="substring-before($html, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($html, '&amp;')"/>
        <xsl:variable name="entity">
          <xsl:choose>
            <xsl:when test="starts-with($rest, 'lt;')">&lt;</xsl:when>
            <xsl:when test="starts-with($rest, 'gt;')">&gt;</xsl:when>
            <xsl:when test="starts-with($rest, 'amp;')">&amp;</xsl:when>
          </xsl:choose>
        </xsl:variable>
        <xsl:choose>
          <xsl:when test="string($entity)">
            <xsl:value-of select="$entity"/>
            <xsl:call-template name="unescape">
              <xsl:with-param name="html" select="substring-after($rest, ';')"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="unescape">
              <xsl:with-param name="html" select="$rest"/>
            </xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$html"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A link when href is http(s) or site-relative; else the text alone. -->
  <xsl:template name="link">
    <xsl:param name="href"/>
    <xsl:param name="text"/>
    <xsl:param name="rel"/>
    <xsl:choose>
      <xsl:when test="starts-with($href, 'https://') or starts-with($href, 'http://')
                      or (starts-with($href, '/') and not(starts-with($href, '//')))">
        <a href="{$href}">
          <xsl:if test="$rel"><xsl:attribute name="rel"><xsl:value-of select="$rel"/></xsl:attribute></xsl:if>
          <xsl:value-of select="$text"/>
        </a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- "2026-01-10T00:00:00+05:00" -> <time datetime="...">10 Jan 2026</time> -->
  <xsl:template name="iso-day">
    <xsl:param name="when"/>
    <xsl:variable name="text" select="normalize-space($when)"/>
    <xsl:if test="$text">
      <xsl:variable name="month" select="number(substring($text, 6, 2))"/>
      <time datetime="{$text}">
        <xsl:value-of select="number(substring($text, 9, 2))"/>
        <xsl:text> </xsl:text>
        <xsl:value-of select="substring('JanFebMarAprMayJunJulAugSepOctNovDec', 3 * $month - 2, 3)"/>
        <xsl:text> </xsl:text>
        <xsl:value-of select="substring($text, 1, 4)"/>
      </time>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
