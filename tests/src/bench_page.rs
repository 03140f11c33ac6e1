//! A generated column page of a given size, shaped like a TRS WCM list with the usual chrome,
//! for benchmarks that need "a ~30 KB government page".

/// A column page of about `target_bytes` bytes: header, navigation, a dated list under the
/// column's path, a sidebar, a footer.
pub fn government_list_page(target_bytes: usize) -> String {
    let mut page = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>工作动态-龙川县人民政府门户网站</title>\
         <script>var _hmt=_hmt||[];</script></head><body><div class=\"topbar\">今天是2026年11月26日 星期四 \
         <a href=\"/wza/\">无障碍</a> <a href=\"/en/\">English</a></div><div class=\"nav\"><ul class=\"menu\">",
    );
    for (index, name) in ["首页", "政务公开", "政务服务", "互动交流", "走进龙川", "专题专栏"].iter().enumerate()
    {
        page.push_str(&format!("<li><a href=\"/c{index}/\">{name}</a></li>"));
    }
    page.push_str("</ul></div><div class=\"main\"><div class=\"right\"><h2>工作动态</h2><ul class=\"list\">");
    let footer = "</div><div class=\"footer\">主办单位：龙川县人民政府办公室 电话：0762-6822345 网站标识码：4416220001 \
                  粤ICP备05012345号-1 粤公网安备 44162202000123号 Copyright &copy; 2010-2026</div></body></html>";
    let mut index = 0u32;
    while page.len() + footer.len() + 300 < target_bytes {
        let day = 26 - (index % 25);
        let month = 11 - (index / 27) % 10;
        page.push_str(&format!(
            "<li><a href=\"./2026{month:02}/t2026{month:02}{day:02}_{index}.html\" target=\"_blank\" title=\"县政府召开常务会议研究部署冬季安全生产工作\">县政府召开常务会议研究部署冬季安全生产工作（第{index}期）</a><span>2026-{month:02}-{day:02}</span></li>\n"
        ));
        index += 1;
    }
    page.push_str("</ul><div class=\"page\"><script>createPageHTML(20, 0, \"index\", \"html\");</script></div></div>");
    page.push_str(footer);
    page
}
