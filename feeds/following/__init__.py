"""Following: gov.kz asked about what the store holds. Each due item's news id asked of the
API (follow), and each agency's official RSS read (rssread), through one `Portal`; whom a
failure is charged to, and what the store keeps of the answers.
"""
